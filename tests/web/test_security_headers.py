"""Security headers on every kind of response (issue 14, item 20), over real HTTP."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from models.schema.company import TelephonySettings
from tests.web.conftest import csrf_from, http_login, web_settings
from web.app import create_app

EXPECTED = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=(), payment=(), usb=()",
}
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; connect-src 'self'"
)


def assert_protected(resp: aiohttp.ClientResponse, policy: str = POLICY) -> None:
    for name, value in EXPECTED.items():
        assert resp.headers.get(name) == value, (resp.url, name)
    assert resp.headers.get("Content-Security-Policy") == policy, resp.url


async def test_pages_files_errors_and_redirects_all_carry_the_headers(world_server, world, http):
    url = world_server.url
    async with http.get(f"{url}/login") as resp:
        assert resp.status == 200
        assert_protected(resp)
    await http_login(http, url, "luis", world.password)
    cases = [
        ("/", 200),
        ("/settings/profile", 200),
        ("/static/app.css", 200),
        ("/static/vendor/chart.js/dist/chart.umd.min.js", 200),
        ("/static/missing.css", 404),
        ("/clients/999999", 404),
        ("/settings/telephony", 403),  # an agent
        ("/api/widget/state", 200),
        ("/healthz", 200),
    ]
    for path, status in cases:
        async with http.get(f"{url}{path}", allow_redirects=False) as resp:
            assert resp.status == status, path
            assert_protected(resp)
    async with http.get(f"{url}/login", allow_redirects=False) as resp:
        assert resp.status == 303  # logged in: sent on to the dashboard
        assert_protected(resp)
    async with http.post(f"{url}/clients/new", data={"name": "x"}) as resp:
        assert resp.status == 403  # no CSRF token: the refusal page too
        assert_protected(resp)


async def test_the_web_phone_server_may_be_reached_from_the_pages(world_server, world, http):
    url = world_server.url
    await TelephonySettings.filter().update(
        widget_mode="webrtc", webrtc_ws_url="wss://pbx.example.com:8089/ws"
    )
    async with http.get(f"{url}/login") as resp:
        assert_protected(resp)  # no widget before logging in: nothing more allowed
    await http_login(http, url, "luis", world.password)
    async with http.get(f"{url}/") as resp:
        assert_protected(resp, POLICY + " wss://pbx.example.com:8089")
    async with http.get(f"{url}/api/widget/state") as resp:
        assert_protected(resp)  # not a page
    await TelephonySettings.filter().update(widget_mode="softphone")
    async with http.get(f"{url}/") as resp:
        assert_protected(resp)


async def test_a_crash_answers_500_with_the_headers_too(world, hub, clock, tmp_path):
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = create_app(web_settings(tmp_path), hub=hub, clock=clock)
    app.router.add_get("/healthz/boom", boom)  # public path: no login needed
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{port}/healthz/boom") as resp:
                assert resp.status == 500
                assert_protected(resp)
    finally:
        await runner.cleanup()


async def test_the_login_form_still_posts_under_the_policy(world_server, world, http):
    """form-action 'self': the login page posts to itself and is sent on to a local page."""
    async with http.get(f"{world_server.url}/login?next=/clients") as resp:
        html = await resp.text()
    assert 'action="/login"' in html
    data = {
        "csrf_token": csrf_from(html),
        "username": "luis",
        "password": world.password,
        "next": "/clients",
    }
    async with http.post(f"{world_server.url}/login", data=data, allow_redirects=False) as resp:
        assert resp.headers["Location"] == "/clients"
