"""panoramisk is pinned to the release daemon.ami.guards was written against.

The guards subclass panoramisk's protocol, action and manager and replace some of their
methods. If panoramisk changes, the guards may silently stop guarding (an overridden method
renamed, an attribute no longer set) or guard against a defect that is gone. These tests fail
on any such change, so an upgrade means revisiting the guards first: check each defect below
on the new release, adapt or drop its guard, then move the pin and PANORAMISK_VERSION.

The defects are shown here in-process on panoramisk's own objects (only the socket is
replaced); tests/daemon/test_link_guards.py shows each one over TCP against the simulator,
bare Manager next to our link.
"""

from __future__ import annotations

import asyncio
import inspect
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from panoramisk import actions
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.manager import Manager
from panoramisk.message import Message

from daemon.ami import guards

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


class Socket:
    """The network edge: what panoramisk's protocol writes, and whether it closed."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def close(self) -> None:
        self.closed = True


def test_pyproject_pins_the_installed_release_the_guards_know():
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pins = [d for d in dependencies if d.startswith("panoramisk")]
    assert pins == ["panoramisk==1.4"]
    assert version("panoramisk") == "1.4"
    assert guards.PANORAMISK_VERSION == "1.4"


# What the guards override or call, with the signature they were written against.
SIGNATURES = [
    (AMIProtocol.connection_made, "(self, transport)"),
    (AMIProtocol.send, "(self, data, as_list=False)"),
    (AMIProtocol.data_received, "(self, data)"),
    (AMIProtocol.handle_message, "(self, message)"),
    (AMIProtocol.connection_lost, "(self, exc)"),
    (AMIProtocol.close, "(self)"),
    (actions.Action.__init__, "(self, *args, **kwargs)"),
    (actions.Action.add_message, "(self, message)"),
    (Message.__init__, "(self, headers, content='')"),
    (Manager.__init__, "(self, **config)"),
    (Manager.send_awaiting_actions, "(self, *_)"),
    (Manager.connection_lost, "(self, exc)"),
    (Manager.close, "(self)"),
]


@pytest.mark.parametrize(
    ("function", "expected"), SIGNATURES, ids=[f.__qualname__ for f, _ in SIGNATURES]
)
def test_the_internals_the_guards_replace_or_call_are_unchanged(function, expected):
    assert str(inspect.signature(function)) == expected


def test_the_properties_the_guards_replace_are_properties():
    for name in ("multi", "completed", "id"):
        assert isinstance(inspect.getattr_static(actions.Action, name), property), name
    assert isinstance(inspect.getattr_static(Message, "id"), property)
    assert inspect.iscoroutinefunction(Manager.send_awaiting_actions)


async def test_the_state_the_guards_rely_on_is_where_they_expect_it():
    protocol = AMIProtocol()
    protocol.connection_made(Socket())
    # GuardedProtocol reads and resets these after calling connection_made.
    for name in ("transport", "closed", "responses", "factory", "version", "log"):
        assert hasattr(protocol, name), name
    manager = Manager(loop=asyncio.get_running_loop(), forgetable_actions=())
    # GuardedManager clears these and adopts the protocol by setting these.
    for name in ("callbacks", "patterns", "protocol", "awaiting_actions", "_connected"):
        assert hasattr(manager, name), name
    action = actions.Action({"Action": "Ping"}, as_list=None)
    assert action.id == action["ActionID"] and action.responses == []
    assert not action.future.done() and action.as_list is None


# The defects themselves, still present in the pinned release.


async def test_defect_a_originate_without_async_raises_on_its_answer():
    originate = actions.Action({"Action": "Originate", "Channel": "PJSIP/101", "Exten": "1"})
    answer = Message(
        {
            "Response": "Success",
            "ActionID": originate["ActionID"],
            "Message": "Originate successfully queued",
        }
    )
    with pytest.raises(KeyError, match="async"):
        originate.add_message(answer)


def _protocol_with_manager() -> tuple[AMIProtocol, Manager, list[Message]]:
    manager = Manager(loop=asyncio.get_running_loop(), forgetable_actions=())
    events: list[Message] = []
    manager.register_event("*", lambda _manager, event: events.append(event))
    protocol = AMIProtocol()
    protocol.connection_made(Socket())
    protocol.encoding = "utf-8"
    protocol.factory = manager
    return protocol, manager, events


async def test_defect_b_a_utf8_character_split_across_reads_is_lost():
    protocol, _, events = _protocol_with_manager()
    data = "Event: Newchannel\r\nCallerIDName: José\r\n\r\n".encode()
    cut = data.index("é".encode()) + 1  # between the two bytes of é
    protocol.data_received(data[:cut])
    protocol.data_received(data[cut:])
    assert [e["CallerIDName"] for e in events] == ["Jos"]


async def test_defect_c_unanswered_actions_are_queued_for_a_resend_and_half_answered_hang():
    protocol, manager, _ = _protocol_with_manager()
    originate = actions.Action({"Action": "Originate", "Async": "true"})
    listing = actions.Action({"Action": "CoreShowChannels"})
    for action in (originate, listing):
        protocol.responses[action.id] = action
    protocol.handle_message(
        Message(
            {
                "Response": "Success",
                "ActionID": listing.id,
                "EventList": "start",
                "Message": "Channels will follow",
            }
        )
    )
    protocol.close()  # what a dropped connection does
    assert list(manager.awaiting_actions) == [originate]  # sent again after the reconnect
    assert not listing.future.done()  # and never failed: its caller waits forever
