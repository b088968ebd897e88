"""Password guessing slowed down per account as well as per address (issue 14, item 17).

The guesses come from really different source addresses: on Linux every 127.x.y.z address
is the loopback, so a client bound to 127.0.0.7 reaches the panel on 127.0.0.1 from there.
Time moves with the panel's injected clock, never by sleeping.
"""

from __future__ import annotations

import asyncio
import re
from contextlib import AsyncExitStack

import aiohttp
import pytest

from models.schema.sessions import UserSession
from tests.web.conftest import LOGIN_LIMIT, csrf_from, start_server, web_settings

WRONG = "Usuario o contraseña incorrectos."
PASSWORD = "secret-pass-1"


@pytest.fixture
async def from_address():
    """from_address(n) -> a client whose connections leave from 127.0.0.n."""
    async with AsyncExitStack() as stack:

        async def make(n: int, **headers: str) -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(local_addr=(f"127.0.0.{n}", 0))
            client = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.CookieJar(unsafe=True),
                headers={"Accept-Language": "es", **headers},
            )
            return await stack.enter_async_context(client)

        yield make


async def try_login(client, url: str, username: str, password: str, **headers: str):
    """(status, message shown, Retry-After) of one login attempt."""
    async with client.get(f"{url}/login") as resp:
        token = csrf_from(await resp.text())
    data = {"username": username, "password": password, "csrf_token": token}
    async with client.post(
        f"{url}/login", data=data, headers=headers, allow_redirects=False
    ) as resp:
        html = await resp.text()
        shown = re.search(r'<div class="flash error" role="alert">(.*?)</div>', html)
        return resp.status, shown.group(1) if shown else "", resp.headers.get("Retry-After")


def locked(words: str) -> str:
    return f"Demasiados intentos fallidos. Vuelve a intentarlo en {words}."


async def test_one_account_guessed_from_many_addresses_is_locked_longer_each_time(
    world_server, world, clock, from_address
):
    url = world_server.url
    address = iter(range(10, 250))
    # Four wrong passwords from four addresses: each only "wrong".
    for _ in range(4):
        client = await from_address(next(address))
        assert await try_login(client, url, "luis", "guess") == (401, WRONG, None)
    # The fifth locks the account, and says so.
    client = await from_address(next(address))
    status, shown, _ = await try_login(client, url, "luis", "guess")
    assert (status, shown) == (401, f"{WRONG} {locked('30 segundos')}")
    # From yet another address, even the right password waits: nothing is checked meanwhile.
    client = await from_address(next(address))
    assert await try_login(client, url, "luis", PASSWORD) == (429, locked("30 segundos"), "30")
    clock.advance(seconds=20)
    assert await try_login(client, url, "luis", PASSWORD) == (429, locked("10 segundos"), "10")
    # Each further failure after a lock locks twice as long, up to 15 minutes.
    remaining = 10
    for wait, words in [
        (60, "un minuto"),
        (120, "2 minutos"),
        (240, "4 minutos"),
        (480, "8 minutos"),
        (900, "15 minutos"),
        (900, "15 minutos"),
    ]:
        clock.advance(seconds=remaining)  # the lock is over
        client = await from_address(next(address))
        status, shown, _ = await try_login(client, url, "luis", "guess")
        assert (status, shown) == (401, f"{WRONG} {locked(words)}")
        client = await from_address(next(address))
        assert await try_login(client, url, "luis", PASSWORD) == (429, locked(words), str(wait))
        remaining = wait
    # Once the lock is over the right password works, and forgives the failures.
    clock.advance(seconds=remaining)
    assert (await try_login(client, url, "luis", PASSWORD))[0] == 303
    client = await from_address(next(address))
    assert await try_login(client, url, "luis", "guess") == (401, WRONG, None)


async def test_an_unknown_username_is_answered_exactly_like_a_real_one(
    world_server, world, from_address
):
    url = world_server.url
    answers = {}
    for n, username in ((20, "luis"), (40, "nadie")):
        seen = []
        for i in range(6):
            client = await from_address(n + i)
            seen.append(await try_login(client, url, username, "guess"))
        answers[username] = seen
    assert answers["luis"] == answers["nadie"]
    assert answers["nadie"][-1] == (429, locked("30 segundos"), "30")


async def test_a_right_password_forgives_earlier_typos(world_server, world, clock, from_address):
    url = world_server.url
    client = await from_address(60)
    for _ in range(4):
        assert (await try_login(client, url, "luis", "typo"))[0] == 401
    assert (await try_login(client, url, "luis", PASSWORD))[0] == 303
    clock.advance(minutes=2)  # past the address's minute
    other = await from_address(61)
    for _ in range(4):
        assert await try_login(other, url, "luis", "typo") == (401, WRONG, None)


async def test_a_burst_of_simultaneous_guesses_checks_no_more_than_the_limit(
    world_server, world, from_address
):
    url = world_server.url
    clients = [await from_address(100 + n) for n in range(20)]
    results = await asyncio.gather(*(try_login(c, url, "luis", "guess") for c in clients))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [401] * 5 + [429] * 15


async def test_one_address_is_still_limited_per_minute_whatever_usernames_it_tries(
    world_server, world, clock, from_address
):
    url = world_server.url
    client = await from_address(70)
    for n in range(LOGIN_LIMIT):
        assert (await try_login(client, url, f"user{n}", "guess"))[0] == 401
    status, shown, retry = await try_login(client, url, "luis", PASSWORD)
    assert (status, shown, retry) == (429, locked("un minuto"), "60")
    # Forwarded-For is not believed without a trusted proxy: the address stays the same.
    status, _, _ = await try_login(client, url, "luis", PASSWORD, **{"X-Forwarded-For": "1.2.3.4"})
    assert status == 429
    clock.advance(minutes=1)
    assert (await try_login(client, url, "luis", PASSWORD))[0] == 303


async def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    world, hub, clock, tmp_path, from_address
):
    settings = web_settings(tmp_path, trusted_proxies=["127.0.0.0/24"])
    runner, srv = await start_server(settings, hub, clock)
    try:
        proxy = await from_address(80)
        for n in range(LOGIN_LIMIT * 2):  # many clients behind the proxy, one guess each
            forwarded = {"X-Forwarded-For": f"203.0.113.{n}, 127.0.0.80"}
            assert (await try_login(proxy, srv.url, f"user{n}", "guess", **forwarded))[0] == 401
        forwarded = {"X-Forwarded-For": "198.51.100.7"}
        assert (await try_login(proxy, srv.url, "luis", PASSWORD, **forwarded))[0] == 303
        session = await UserSession.get(user_id=world.luis.id)
        assert session.address == "198.51.100.7"
    finally:
        await runner.cleanup()


async def test_the_current_password_on_the_profile_is_throttled_too(
    world, hub, clock, tmp_path, from_address
):
    # A generous per-address limit, so that only the account's lock speaks here.
    runner, srv = await start_server(
        web_settings(tmp_path, login_attempts_per_minute=100), hub, clock
    )
    url = srv.url
    client = await from_address(90)
    assert (await try_login(client, url, "luis", PASSWORD))[0] == 303

    async def change(current: str) -> tuple[int, str]:
        async with client.get(f"{url}/settings/profile") as resp:
            token = csrf_from(await resp.text())
        data = {
            "csrf_token": token,
            "current_password": current,
            "new_password": "another-password-4",
            "new_password_again": "another-password-4",
        }
        async with client.post(f"{url}/settings/password", data=data) as resp:
            html = await resp.text()
        error = re.search(r'<p class="field-error" role="alert">(.*?)</p>', html)
        return resp.status, error.group(1) if error else ""

    try:
        for _ in range(4):
            assert await change("guess") == (422, "Contraseña incorrecta.")
        assert await change("guess") == (422, f"Contraseña incorrecta. {locked('30 segundos')}")
        assert await change(PASSWORD) == (429, locked("30 segundos"))
        clock.advance(seconds=30)
        assert await change(PASSWORD) == (200, "")  # changed, back on the profile page
    finally:
        await runner.cleanup()
