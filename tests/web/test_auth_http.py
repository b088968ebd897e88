"""Authentication and access over real HTTP: sessions, CSRF, set-up, rate limit, invitations."""

from __future__ import annotations

from datetime import timedelta

import aiohttp

from models.people import team
from tests.web.conftest import LOGIN_LIMIT, csrf_from, http_login


async def test_healthz_reports_the_database(server, http):
    async with http.get(f"{server.url}/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["database"] == "ok"


async def test_every_page_redirects_to_setup_until_an_admin_exists(server, http):
    for path in ("/", "/clients", "/login", "/settings/profile"):
        async with http.get(f"{server.url}{path}", allow_redirects=False) as resp:
            assert resp.status == 303, path
            assert resp.headers["Location"] == "/setup"
    async with http.get(f"{server.url}/setup") as resp:
        html = await resp.text()
    data = {"csrf_token": csrf_from(html), "name": "Центр", "username": "ana", "password": "short"}
    async with http.post(f"{server.url}/setup", data=data) as resp:
        assert resp.status == 422
        page = await resp.text()
        assert 'class="field-error"' in page
        assert 'value="ana"' in page  # what was typed is kept
    data.update(name="Acme Telecom", password="long-password-1", extension="100")
    async with http.post(f"{server.url}/setup", data=data, allow_redirects=False) as resp:
        assert resp.status == 303
        assert resp.headers["Location"] == "/"
    async with http.get(f"{server.url}/") as resp:
        assert resp.status == 200
        assert "Acme" in await resp.text() or resp.url.path == "/"
    async with http.get(f"{server.url}/setup", allow_redirects=False) as resp:
        assert resp.status == 303  # set-up is over


async def test_session_cookie_flags(world_server, http):
    async with http.get(f"{world_server.url}/login") as resp:
        token = csrf_from(await resp.text())
    data = {"username": "luis", "password": "secret-pass-1", "csrf_token": token}
    async with http.post(f"{world_server.url}/login", data=data, allow_redirects=False) as resp:
        assert resp.status == 303
        cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # secure_cookies is off in this configuration


async def test_secure_cookie_when_configured(world, hub, clock, tmp_path, http):
    from tests.web.conftest import start_server, web_settings

    runner, srv = await start_server(web_settings(tmp_path, secure_cookies=True), hub, clock)
    try:
        async with http.get(f"{srv.url}/login") as resp:
            assert "Secure" in resp.headers["Set-Cookie"]
    finally:
        await runner.cleanup()


async def test_post_without_csrf_token_is_refused(world_server, http):
    await http_login(http, world_server.url, "luis", "secret-pass-1")
    async with http.post(f"{world_server.url}/clients/new", data={"name": "Sin token"}) as resp:
        assert resp.status == 403
    async with http.post(
        f"{world_server.url}/api/deals/1/move",
        json={"status": "won"},
        headers={"X-CSRF-Token": "forged"},
    ) as resp:
        assert resp.status == 403
    async with http.get(f"{world_server.url}/clients?view=all") as resp:
        assert "Sin token" not in await resp.text()  # nothing was created


async def test_login_is_rate_limited_per_address(world_server, http):
    async with http.get(f"{world_server.url}/login") as resp:
        token = csrf_from(await resp.text())
    bad = {"username": "luis", "password": "wrong-password", "csrf_token": token}
    for _ in range(LOGIN_LIMIT):
        async with http.post(f"{world_server.url}/login", data=bad) as resp:
            assert resp.status == 401
    good = {"username": "luis", "password": "secret-pass-1", "csrf_token": token}
    async with http.post(f"{world_server.url}/login", data=good, allow_redirects=False) as resp:
        assert resp.status == 429  # even the right password waits until the minute has passed
        assert int(resp.headers["Retry-After"]) > 0


async def test_logout_ends_the_session(world_server, http):
    await http_login(http, world_server.url, "luis", "secret-pass-1")
    async with http.get(f"{world_server.url}/") as resp:
        token = csrf_from(await resp.text())
    async with http.post(
        f"{world_server.url}/logout", data={"csrf_token": token}, allow_redirects=False
    ) as resp:
        assert resp.status == 303
    async with http.get(f"{world_server.url}/clients", allow_redirects=False) as resp:
        assert resp.status == 303
        assert resp.headers["Location"].startswith("/login")


async def test_invite_link_creates_a_user_once_and_expires(world_server, world, clock, http):
    invite, token = await team.create_invite(world.ana, clock.now(), extension="150")
    url = f"{world_server.url}/invite/{token}"
    async with http.get(url) as resp:
        assert resp.status == 200
        form_token = csrf_from(await resp.text())
    data = {"csrf_token": form_token, "username": "nuria", "password": "nuria-pass-1"}
    async with http.post(url, data=data, allow_redirects=False) as resp:
        assert resp.status == 303
    async with http.get(f"{world_server.url}/team") as resp:
        assert "nuria" in await resp.text()
    async with aiohttp.ClientSession() as other:
        async with other.get(url) as resp:
            assert resp.status == 404  # single use
    _, late = await team.create_invite(world.ana, clock.now() - timedelta(hours=73))
    async with http.get(f"{world_server.url}/invite/{late}") as resp:
        assert resp.status == 404  # expired
