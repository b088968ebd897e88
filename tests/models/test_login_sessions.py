"""Server-side sessions and the login throttle in the domain (models/people), on both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from models.core.errors import NotFound
from models.people import login_throttle, sessions, team
from models.people import users as user_ops
from models.people.login_throttle import ThrottlePolicy
from models.schema.sessions import LoginThrottle, UserSession

LIFETIME = timedelta(hours=12)
POLICY = ThrottlePolicy(account_failures=5, address_failures=10)


async def test_only_the_keys_hash_is_stored_and_the_key_opens_the_session(world, clock):
    key, row = await sessions.open_session(
        world.luis, clock.now(), lifetime=LIFETIME, user_agent="x" * 400, address="192.0.2.1"
    )
    assert len(key) >= 40
    stored = await UserSession.get(id=row.id)
    assert key not in stored.key_hash and len(stored.key_hash) == 64
    assert len(stored.user_agent) == 255
    _, odd = await sessions.open_session(
        world.luis, clock.now(), lifetime=LIFETIME, user_agent="Firefox\x00\x07/1"
    )
    assert (await UserSession.get(id=odd.id)).user_agent == "Firefox/1"
    found = await sessions.resolve(key, clock.now(), lifetime=LIFETIME)
    assert found is not None and found.user.username == "luis"
    assert found.user.group.name == "Agent"  # rights are read from it on every page
    forged = key[:-1] + ("B" if key.endswith("A") else "A")
    assert await sessions.resolve(forged, clock.now(), lifetime=LIFETIME) is None
    assert await sessions.resolve("", clock.now(), lifetime=LIFETIME) is None
    assert await sessions.resolve("k" * 5000, clock.now(), lifetime=LIFETIME) is None


async def test_ending_sessions_one_all_or_all_but_one(world, clock):
    now = clock.now()
    keys = [(await sessions.open_session(world.luis, now, lifetime=LIFETIME))[0] for _ in "abc"]
    _, marta = await sessions.open_session(world.marta, now, lifetime=LIFETIME)
    rows = await sessions.sessions_of(world.luis, now)
    assert len(rows) == 3
    assert len(await sessions.end_session(keys[0])) == 1
    assert await sessions.end_session(keys[0]) == []  # twice is harmless
    keep = (await sessions.resolve(keys[1], now, lifetime=LIFETIME)).id
    assert len(await sessions.end_sessions_of(world.luis.id, keep=keep)) == 1
    assert [r.id for r in await sessions.sessions_of(world.luis, now)] == [keep]
    with pytest.raises(NotFound):
        await sessions.end_own_session(world.luis, marta.id)  # not his
    assert await sessions.live_among([keep, marta.id], now) == {keep, marta.id}


async def test_a_new_password_ends_the_users_sessions_but_a_rehash_does_not(world, clock):
    key, row = await sessions.open_session(world.luis, clock.now(), lifetime=LIFETIME)
    other, _ = await sessions.open_session(world.luis, clock.now(), lifetime=LIFETIME)
    await user_ops.authenticate("luis", world.password)  # may rehash: sessions go on
    assert await sessions.resolve(other, clock.now(), lifetime=LIFETIME) is not None
    await user_ops.set_password(world.luis, "brand-new-pass-5", keep_session=row.id)
    assert await sessions.resolve(key, clock.now(), lifetime=LIFETIME) is not None
    assert await sessions.resolve(other, clock.now(), lifetime=LIFETIME) is None


async def test_deactivation_ends_every_session_and_a_deactivated_user_has_none(world, clock):
    key, _ = await sessions.open_session(world.luis, clock.now(), lifetime=LIFETIME)
    await team.set_user_active(world.ana, world.luis.id, False)
    assert await sessions.resolve(key, clock.now(), lifetime=LIFETIME) is None
    assert await UserSession.filter(user_id=world.luis.id).count() == 0


async def test_expired_sessions_are_refused_and_purged(world, clock):
    old, _ = await sessions.open_session(world.luis, clock.now(), lifetime=LIFETIME)
    clock.advance(hours=12)
    assert await sessions.resolve(old, clock.now(), lifetime=LIFETIME) is None
    assert await sessions.purge_expired(clock.now()) == 1


async def test_locks_grow_and_a_quiet_quarter_of_an_hour_starts_again(world, clock):
    for _ in range(4):
        attempt = await login_throttle.begin_attempt("luis", "192.0.2.1", clock.now(), POLICY)
        assert attempt.refused_for is None and attempt.wait_if_wrong is None
    attempt = await login_throttle.begin_attempt("luis", "192.0.2.2", clock.now(), POLICY)
    assert attempt.wait_if_wrong == timedelta(seconds=30)
    refused = await login_throttle.begin_attempt("LUIS ", "192.0.2.3", clock.now(), POLICY)
    assert refused.refused_for == timedelta(seconds=30)  # the same account, however typed
    clock.advance(seconds=30)
    attempt = await login_throttle.begin_attempt("luis", "192.0.2.4", clock.now(), POLICY)
    assert attempt.wait_if_wrong == timedelta(minutes=1)
    # A quarter of an hour after the lock ended, the count starts from zero.
    clock.advance(minutes=16)
    attempt = await login_throttle.begin_attempt("luis", "192.0.2.5", clock.now(), POLICY)
    assert attempt.refused_for is None and attempt.wait_if_wrong is None


async def test_simultaneous_attempts_are_each_counted(world, clock):
    attempts = await asyncio.gather(
        *(
            login_throttle.begin_attempt("marta", f"198.51.100.{n}", clock.now(), POLICY)
            for n in range(12)
        )
    )
    checked = [a for a in attempts if a.refused_for is None]
    assert len(checked) == 5
    assert sum(a.wait_if_wrong is not None for a in checked) == 1


async def test_quiet_counters_are_forgotten(world, clock):
    await login_throttle.begin_attempt("nadie", "192.0.2.9", clock.now(), POLICY)
    assert await LoginThrottle.all().count() == 2
    clock.advance(minutes=14)
    assert await login_throttle.purge_stale(clock.now(), POLICY) == 0
    clock.advance(minutes=2)
    assert await login_throttle.purge_stale(clock.now(), POLICY) == 2
