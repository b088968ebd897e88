"""The widget's endpoints refuse what they must: no CSRF token, another agent's call, no login."""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

from aiohttp import ClientSession

from models.core.events import CallRang
from models.schema.leads import Lead
from models.telephony.caller_directory import caller_card
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    log_in,
    panel,
)


async def test_widget_endpoints_check_csrf_the_call_owner_and_the_login(panel, contexts, world):
    page = await log_in(await contexts(), panel, "luis", world.password)
    token = await page.get_attribute('meta[name="csrf-token"]', "content")
    panel.hub.publish(CallRang("m-1", "in", "102", world.marta.id, await caller_card("+34600")))
    await panel.hub.drain()

    def post(path: str, data: dict, csrf: str | None = token):
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        return page.request.post(panel.url + path, data=data, headers=headers)

    # No token: refused before anything happens.
    answer = await post("/api/calls/originate", {"number": "+34911234567"}, csrf=None)
    assert answer.status == 403
    # Marta's call is not luis's to save, note, transfer or hang up: answered exactly as a
    # call that does not exist, so that calls cannot be probed.
    missing = await post("/api/calls/hangup", {"linkedid": "nope"})
    assert missing.status == 404
    for path, body in (
        ("/api/calls/save-caller", {"kind": "lead", "name": "Intruso"}),
        ("/api/calls/note", {"text": "hola"}),
        ("/api/calls/transfer", {"to_extension": "100"}),
        ("/api/calls/hangup", {}),
    ):
        answer = await post(path, {"linkedid": "m-1", **body})
        assert answer.status == 404, path
        assert await answer.json() == await missing.json()
    assert await Lead.all().count() == 0
    # Bad input comes back per field.
    answer = await post("/api/calls/save-caller", {"linkedid": "m-1", "kind": "lead"})
    assert answer.status == 404
    panel.hub.publish(CallRang("l-1", "in", "101", world.luis.id, await caller_card("+34601")))
    await panel.hub.drain()
    answer = await post("/api/calls/save-caller", {"linkedid": "l-1", "kind": "client"})
    assert answer.status == 422 and "name" in (await answer.json())["fields"]
    answer = await post("/api/calls/note", {"linkedid": "l-1", "text": "x"})
    assert answer.status == 422  # an unknown caller must be saved first

    # Without a session: 401 for the API, and the socket is not opened.
    async with ClientSession() as anonymous:
        async with anonymous.get(panel.url + "/api/widget/team") as response:
            assert response.status == 401
        async with anonymous.get(panel.url + "/ws", allow_redirects=False) as response:
            assert response.status in (303, 401)


async def test_a_page_of_another_site_cannot_open_the_live_socket(panel, contexts, world):
    context = await contexts()
    await log_in(context, panel, "luis", world.password)
    cookie = {c["name"]: c["value"] for c in await context.cookies()}
    async with ClientSession(cookies=cookie) as session:
        refused = await session.get(
            panel.url + "/ws",
            headers={
                "Origin": "http://evil.example",
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        )
        assert refused.status == 403
        async with session.ws_connect(panel.url + "/ws", origin=panel.url) as ws:
            await ws.send_str("ping")
            assert (await ws.receive_json())["type"] == "pong"
