"""The one extension directory: loaded once, reloaded when users change (not on a timer)."""

from __future__ import annotations

from models.core.events import UsersChanged
from models.schema.users import User
from models.telephony.extensions import ExtensionDirectory


class Ticking:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_changed_extension_and_a_deactivated_user_follow_the_event(world, hub):
    directory = ExtensionDirectory()
    hub.subscribe("extensions", directory.on_event, UsersChanged)
    await directory.load()
    assert directory.known() == {"100", "101", "102"}
    assert directory.cached("101").id == world.luis.id

    await User.filter(id=world.luis.id).update(extension="111")
    await User.filter(id=world.marta.id).update(is_active=False)
    assert directory.cached("101").id == world.luis.id  # nothing said yet: no query either
    hub.publish(UsersChanged(world.luis.id))
    await hub.drain()
    assert directory.known() == {"100", "111"}
    assert directory.cached("101") is None
    assert directory.cached("111").id == world.luis.id
    assert await directory.user_id("102") is None


async def test_an_unknown_extension_is_looked_up_again_at_most_once_a_second(world):
    ticking = Ticking()
    directory = ExtensionDirectory(monotonic=ticking)
    await directory.load()
    assert directory.loads == 1
    # A trunk or a queue: nobody has it, and a burst of its events costs one reload.
    assert await directory.user("8000") is None
    ticking.now += 0.5
    assert await directory.user("8000") is None
    assert directory.loads == 1
    # A user added by another process (`centralita user add`) is found on their first call.
    await User.create(
        username="pepe", password_hash="x", extension="120", group_id=world.luis.group_id
    )
    ticking.now += 1.0
    assert (await directory.user("120")).username == "pepe"
    assert directory.loads == 2
