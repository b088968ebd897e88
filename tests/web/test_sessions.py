"""Sessions kept on the server (issue 14, item 16), over real HTTP and websockets.

Each test plays several browsers: aiohttp client sessions with their own cookie jars; a
"copied cookie" is the same cookie value put into another jar.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from contextlib import AsyncExitStack

import aiohttp
import pytest
from yarl import URL

from models.people import users as user_ops
from models.schema.clients import Client
from models.schema.sessions import UserSession
from tests.web.conftest import csrf_from, http_login
from web.keys import SESSIONS
from web.security import COOKIE_NAME

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
async def browsers():
    """browsers(user_agent=..., cookie=...) -> a client with a cookie jar of its own."""
    async with AsyncExitStack() as stack:

        async def make(user_agent: str | None = None, cookie: str | None = None):
            headers = {"User-Agent": user_agent} if user_agent else None
            client = aiohttp.ClientSession(
                cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers
            )
            await stack.enter_async_context(client)
            if cookie is not None:
                client.cookie_jar.update_cookies({COOKIE_NAME: cookie})
            return client

        yield make


def cookie_of(client: aiohttp.ClientSession, url: str) -> str:
    return client.cookie_jar.filter_cookies(URL(url))[COOKIE_NAME].value


async def token_of(client: aiohttp.ClientSession, url: str, path: str = "/settings/profile") -> str:
    async with client.get(f"{url}{path}") as resp:
        assert resp.status == 200
        return csrf_from(await resp.text())


async def is_logged_in(client: aiohttp.ClientSession, url: str) -> bool:
    async with client.get(f"{url}/clients", allow_redirects=False) as resp:
        if resp.status == 303:
            assert resp.headers["Location"].startswith("/login")
            return False
        assert resp.status == 200
        return True


async def post(client, url: str, path: str, data: dict | None = None) -> aiohttp.ClientResponse:
    token = await token_of(client, url)
    async with client.post(
        f"{url}{path}", data={"csrf_token": token, **(data or {})}, allow_redirects=False
    ) as resp:
        await resp.read()
        return resp


async def open_socket(client, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect(f"{url}/ws")
    await ws.send_str("ping")
    assert (await asyncio.wait_for(ws.receive_json(), 5))["type"] == "pong"
    return ws


async def closed_by_server(ws: aiohttp.ClientWebSocketResponse) -> int:
    """Wait (at most 5 s) for the server to close the socket; returns the close code."""
    msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type == aiohttp.WSMsgType.CLOSE, msg
    return msg.data


async def still_open(ws: aiohttp.ClientWebSocketResponse) -> bool:
    await ws.send_str("ping")
    return (await asyncio.wait_for(ws.receive_json(), 5))["type"] == "pong"


async def test_a_copied_cookie_stops_working_after_logout(world_server, browsers):
    url = world_server.url
    owner = await browsers()
    await http_login(owner, url, "luis", "secret-pass-1")
    thief = await browsers(cookie=cookie_of(owner, url))
    assert await is_logged_in(thief, url)  # the copy works while the session lives
    socket = await open_socket(thief, url)
    stolen = cookie_of(thief, url)  # with the CSRF token its page view added

    resp = await post(owner, url, "/logout")
    assert resp.status == 303 and resp.headers["Location"] == "/login"

    assert not await is_logged_in(thief, url)
    assert await closed_by_server(socket) == 4401  # its live pop-ups stop at once
    async with thief.get(f"{url}/api/widget/state") as resp:
        assert resp.status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await thief.ws_connect(f"{url}/ws")
    assert refused.value.status == 401
    # Sent again as it was (the server's answers would have cleared it in a browser), the
    # copy opens nothing and cannot post, even with the CSRF token readable inside it.
    replay = await browsers(cookie=stolen)
    assert not await is_logged_in(await browsers(cookie=stolen), url)
    payload = json.loads(base64.urlsafe_b64decode(stolen.split(".")[0] + "=="))
    async with replay.post(
        f"{url}/clients/new",
        data={"csrf_token": payload["csrf"], "name": "Copied cookie"},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 403
    assert not await Client.filter(name="Copied cookie").exists()


async def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(
    world_server, world, browsers
):
    url = world_server.url
    here, elsewhere = await browsers(), await browsers()
    await http_login(here, url, "luis", world.password)
    await http_login(elsewhere, url, "luis", world.password)
    socket_here, socket_elsewhere = await open_socket(here, url), await open_socket(elsewhere, url)
    form = {
        "current_password": world.password,
        "new_password": "a-new-password-2",
        "new_password_again": "a-new-password-2",
    }
    resp = await post(here, url, "/settings/password", form)
    assert resp.status == 303
    async with here.get(f"{url}/settings/profile") as page:
        assert "Contraseña cambiada." in await page.text()  # Luis reads Spanish
    assert await is_logged_in(here, url)
    assert not await is_logged_in(elsewhere, url)
    assert await closed_by_server(socket_elsewhere) == 4401
    assert await still_open(socket_here)
    # The old password no longer opens a session; the new one does.
    other = await browsers()
    await http_login(other, url, "luis", "a-new-password-2")


async def test_a_password_set_from_the_command_line_ends_every_session(
    world_server, world, browsers
):
    url = world_server.url
    luis = await browsers()
    await http_login(luis, url, "luis", world.password)
    await user_ops.set_password(world.luis, "changed-by-admin-3")  # `centralita user passwd`
    assert not await is_logged_in(luis, url)


async def test_deactivating_a_user_logs_them_out_everywhere(world_server, world, browsers):
    url = world_server.url
    admin, luis_pc, luis_phone = await browsers(), await browsers(), await browsers()
    await http_login(admin, url, "ana", world.password)
    await http_login(luis_pc, url, "luis", world.password)
    await http_login(luis_phone, url, "luis", world.password)
    socket = await open_socket(luis_phone, url)
    resp = await post(admin, url, f"/team/{world.luis.id}/active", {"active": "0"})
    assert resp.status == 303
    assert not await is_logged_in(luis_pc, url)
    assert not await is_logged_in(luis_phone, url)
    assert await closed_by_server(socket) == 4401
    assert await UserSession.filter(user_id=world.luis.id).count() == 0
    assert await is_logged_in(admin, url)


def session_rows(html: str) -> list[str]:
    table = html.split('<table class="list sessions">', 1)[1].split("</table>", 1)[0]
    table = table.split("<tbody>", 1)[1]
    return re.findall(r"<tr(?: class=\"current\")?>.*?</tr>", table, re.S)


async def test_the_profile_lists_the_sessions_and_logs_out_everywhere_else(
    world_server, world, browsers
):
    url = world_server.url
    pc = await browsers(user_agent=FIREFOX_WINDOWS)
    phone = await browsers(user_agent=SAFARI_IPHONE)
    tablet = await browsers(user_agent="curl/8.11")
    for client in (pc, phone, tablet):
        await http_login(client, url, "luis", world.password)
    await http_login(await browsers(), url, "marta", world.password)  # not Luis's

    async with pc.get(f"{url}/settings/profile") as resp:
        rows = session_rows(await resp.text())
    assert len(rows) == 3
    current = [row for row in rows if 'class="current"' in row]
    assert (
        len(current) == 1 and "Firefox · Windows" in current[0] and "Este navegador" in current[0]
    )
    assert any("Safari · iOS" in row for row in rows)
    assert any("Navegador desconocido" in row for row in rows)
    assert all("127.0.0.1" in row for row in rows)

    # End one forgotten session from the list...
    phone_row = next(row for row in rows if "Safari · iOS" in row)
    phone_id = re.search(r"/settings/sessions/(\d+)/end", phone_row).group(1)
    resp = await post(pc, url, f"/settings/sessions/{phone_id}/end")
    assert resp.status == 303
    assert not await is_logged_in(phone, url)
    assert await is_logged_in(tablet, url)

    # ...or every other one at once.
    resp = await post(pc, url, "/settings/sessions/others")
    assert resp.status == 303
    async with pc.get(f"{url}/settings/profile") as resp:
        html = await resp.text()
    assert "Sesión cerrada en los demás dispositivos. Sesiones cerradas: 1." in html
    assert len(session_rows(html)) == 1
    assert 'action="/settings/sessions/others"' not in html  # nothing else to end
    assert not await is_logged_in(tablet, url)
    assert await is_logged_in(pc, url)
    assert await UserSession.filter(user_id=world.marta.id).count() == 1


async def test_a_user_cannot_end_a_colleagues_session(world_server, world, browsers):
    url = world_server.url
    luis, marta = await browsers(), await browsers()
    await http_login(luis, url, "luis", world.password)
    await http_login(marta, url, "marta", world.password)
    theirs = await UserSession.get(user_id=world.marta.id)
    resp = await post(luis, url, f"/settings/sessions/{theirs.id}/end")
    assert resp.status == 404
    assert await is_logged_in(marta, url)
    resp = await post(luis, url, "/settings/sessions/99999999999999999999/end")
    assert resp.status == 404  # beyond the column's range: no session, not a crash


async def test_a_session_ends_after_its_idle_time_and_activity_keeps_it(
    world_server, world, clock, browsers
):
    url = world_server.url
    luis = await browsers()
    await http_login(luis, url, "luis", world.password)
    started = clock.now()
    # "Last seen" is written at most once a minute...
    clock.advance(seconds=30)
    assert await is_logged_in(luis, url)
    assert (await UserSession.get(user_id=world.luis.id)).last_seen_at == started
    clock.advance(seconds=31)
    assert await is_logged_in(luis, url)
    assert (await UserSession.get(user_id=world.luis.id)).last_seen_at == clock.now()
    # ...and moves the end: 11 hours of quiet twice over stays within 12 h of the last use.
    clock.advance(hours=11)
    assert await is_logged_in(luis, url)
    clock.advance(hours=11)
    assert await is_logged_in(luis, url)
    clock.advance(hours=12, seconds=1)
    assert not await is_logged_in(luis, url)
    # The expired row is forgotten when someone logs in next.
    assert await UserSession.filter(user_id=world.luis.id).count() == 1
    await http_login(await browsers(), url, "marta", world.password)
    assert await UserSession.filter(user_id=world.luis.id).count() == 0


async def test_a_cookie_from_before_server_side_sessions_no_longer_logs_in(
    world_server, world, clock, browsers
):
    """The old cookie said who was logged in by itself; signed with the right key, it now
    opens nothing (everyone logs in once after the upgrade)."""
    codec = world_server.app[SESSIONS]
    old = codec.dumps({"uid": world.luis.id, "pw": "0123456789abcdef", "csrf": "t", "exp": 2**40})
    client = await browsers(cookie=old)
    assert not await is_logged_in(client, world_server.url)


async def test_flash_messages_and_language_survive_the_new_sessions(world_server, world, browsers):
    url = world_server.url
    luis = await browsers()
    await http_login(luis, url, "luis", world.password)
    token = await token_of(luis, url)
    data = {
        "csrf_token": token,
        "full_name": "Luis Pérez",
        "email": "",
        "phone": "",
        "position": "",
        "extension": "101",
        "language": "es",
    }
    async with luis.post(f"{url}/settings/profile", data=data) as resp:
        html = await resp.text()
    assert "Perfil guardado." in html  # the flash, in the language just chosen
    async with luis.get(f"{url}/settings/profile") as resp:
        html = await resp.text()
    assert "Perfil guardado." not in html  # shown once
    assert "Dónde has iniciado sesión" in html
