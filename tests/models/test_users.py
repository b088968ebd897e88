import asyncio

import pytest

from models.core.errors import AuthenticationFailed, Conflict, ValidationFailed
from models.people import users as user_ops
from models.people.permissions import has_right, is_admin


async def test_setup_creates_company_and_admin(db):
    admin = await user_ops.setup_crm("Acme Telecom", "ana", "long-password", "100")
    await admin.fetch_related("group")
    assert is_admin(admin)
    assert (await user_ops.get_company()).name == "Acme Telecom"
    assert admin.password_hash.startswith("$argon2")
    with pytest.raises(Conflict):
        await user_ops.setup_crm("Other", "bob", "long-password", "200")


async def test_setup_refuses_non_latin_name(db):
    with pytest.raises(ValidationFailed) as err:
        await user_ops.setup_crm("Центральная", "ana", "long-password", "100")
    assert "name" in err.value.fields


async def test_authenticate(world):
    user = await user_ops.authenticate("luis", world.password)
    assert user.id == world.luis.id
    with pytest.raises(AuthenticationFailed):
        await user_ops.authenticate("luis", "wrong-password")
    with pytest.raises(AuthenticationFailed):
        await user_ops.authenticate("nobody", "whatever-123")


async def test_duplicate_extension_names_the_owner(world):
    with pytest.raises(Conflict) as err:
        await user_ops.create_user("pepe", "long-password", extension="101")
    assert "luis" in str(err.value)


async def test_agent_rights_are_limited(world):
    assert not has_right(world.luis, "clients.view_all")
    assert has_right(world.ana, "clients.view_all")
    group = await user_ops.create_group("Supervisors", ["clients.view_all", "calls.view_all"])
    assert group.rights == ["calls.view_all", "clients.view_all"]
    with pytest.raises(ValidationFailed):
        await user_ops.create_group("Bad", ["fly"])


async def test_logins_at_once_hash_one_password_at_a_time(world, monkeypatch):
    """Fifty people logging in together must not take every core from the pop-ups: argon2
    (itself on several threads) runs for one login at a time, and every login still ends."""
    import threading
    import time

    running, most = 0, 0
    lock = threading.Lock()
    verify = user_ops._verify

    def counted(stored_hash: str, password: str) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.02)  # long enough for concurrent threads to overlap
            verify(stored_hash, password)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(user_ops, "_verify", counted)
    attempts = [user_ops.authenticate("luis", world.password) for _ in range(4)]
    attempts.append(user_ops.authenticate("luis", "wrong-password"))
    results = await asyncio.gather(*attempts, return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["User"] * 4 + ["AuthenticationFailed"]
    assert most == 1
