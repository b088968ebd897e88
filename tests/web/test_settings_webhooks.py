"""Settings -> Webhooks through the real app, with the daemon's outbox worker, webhook sender and
hub subscriber running beside it and a real local receiver: an admin creates a webhook (errors
naming the field, the secret shown once), sends a test event and reads it in the delivery log,
pauses, resumes, changes the secret and removes it; a client created through the panel's form
reaches the receiver; an agent is refused; the page speaks Spanish."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re

import pytest
from aiohttp import web
from cryptography.fernet import Fernet

from daemon.outbox_worker import OutboxWorker
from daemon.webhook_events import WebhookEvents
from daemon.webhook_send import register_webhooks
from models.core.secret_box import SecretBox
from models.schema.deals import Deal
from models.schema.integrations import WebhookDelivery, WebhookSubscription
from models.schema.leads import Lead
from models.schema.users import User
from tests.web.conftest import csrf_from, http_login, start_server, web_settings
from web.services import WebServices

HOOK_URL_FIELD = 'name="url"'


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.seen: list[dict] = []
        self.arrived = asyncio.Queue()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp = request.headers["X-Centralita-Timestamp"]
        expected = (
            "v1="
            + hmac.new(
                self.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256
            ).hexdigest()
        )
        seen = {
            "valid": hmac.compare_digest(expected, request.headers["X-Centralita-Signature"]),
            "event": request.headers["X-Centralita-Event"],
            "body": json.loads(body),
        }
        self.seen.append(seen)
        self.arrived.put_nowait(seen)
        return web.Response(text="thanks")


@pytest.fixture
async def receiver():
    state = Receiver()
    app = web.Application()
    app.router.add_post("/hook", state.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


@pytest.fixture
async def hooks_server(world, hub, clock, tmp_path, receiver):
    """The panel and, as the daemon wires them, the worker, the sender and the subscriber."""
    await User.all().update(language="en")
    box = SecretBox(Fernet.generate_key())
    runner, srv = await start_server(
        web_settings(tmp_path), hub, clock, WebServices(secret_box=box)
    )
    worker = OutboxWorker(clock=clock, poll_interval=0.05)
    sender = register_webhooks(worker, box, clock)
    events = WebhookEvents(hub, clock, worker.wake)
    events.start()
    await worker.start()
    yield srv
    await worker.stop()
    await events.stop()
    await sender.close()
    await runner.cleanup()


async def _get(http, url):
    async with http.get(url) as resp:
        return resp.status, await resp.text()


async def _post(http, url, data, token_page):
    _status, html = await _get(http, token_page)
    async with http.post(
        url, data=[*data, ("csrf_token", csrf_from(html))], allow_redirects=False
    ) as resp:
        return resp.status, await resp.text(), resp.headers.get("Location", "")


def _secret_in(html: str) -> str:
    match = re.search(r'<code class="webhook-secret">([^<]+)</code>', html)
    assert match, "the new secret is not shown"
    return match.group(1)


async def test_an_admin_creates_a_webhook_tests_it_and_reads_the_log(
    world, hooks_server, http, receiver
):
    url = hooks_server.url
    page = f"{url}/settings/webhooks"
    await http_login(http, url, "ana", world.password)
    status, html = await _get(http, f"{url}/settings/profile")
    assert 'href="/settings/webhooks"' in html
    status, html = await _get(http, page)
    assert status == 200 and "Call ringing" in html and "Task done" in html

    # Wrong address and no events: both fields named, what was typed kept.
    status, html, _ = await _post(
        http, page, [("url", "ftp://example.com/x"), ("description", "Zapier")], page
    )
    assert status == 422
    assert "not an http:// or https:// address: ftp://example.com/x" in html
    assert "choose at least one event" in html
    assert 'value="Zapier"' in html

    data = [
        ("url", receiver.url),
        ("event_types", "lead.created"),
        ("event_types", "client.created"),
        ("description", "Zapier"),
    ]
    status, html, _ = await _post(http, page, data, page)
    assert status == 200
    receiver.secret = _secret_in(html)
    [subscription] = await WebhookSubscription.all()
    assert subscription.event_types == ["lead.created", "client.created"]
    assert receiver.secret not in subscription.secret_encrypted
    status, html = await _get(http, page)
    assert receiver.secret not in html, "shown once"
    assert receiver.url in html and "Lead created, Client created" in html

    # The test event arrives signed, and the log shows its code.
    status, _html, location = await _post(http, f"{page}/{subscription.id}/test", [], page)
    assert status == 303 and location == f"/settings/webhooks/{subscription.id}"
    seen = await asyncio.wait_for(receiver.arrived.get(), 10)
    assert seen["valid"] and seen["event"] == "webhook.test"
    for _ in range(100):  # the row is marked right after the answer: wait for that commit
        if await WebhookDelivery.filter(status="delivered").exists():
            break
        await asyncio.sleep(0.02)
    status, html = await _get(http, f"{page}/{subscription.id}")
    assert status == 200
    assert "Test event" in html and "Delivered" in html and "thanks" in html
    assert re.search(r'class="response-code">200<', html)

    # Pause: the panel says so and nothing is queued; resume.
    await _post(http, f"{page}/{subscription.id}/pause", [], page)
    status, html = await _get(http, page)
    assert "Paused" in html and f"/settings/webhooks/{subscription.id}/resume" in html
    await _post(http, f"{page}/{subscription.id}/resume", [], page)
    assert (await WebhookSubscription.get(id=subscription.id)).enabled

    # A new secret, shown once, and the next event is signed with it.
    status, html, _ = await _post(http, f"{page}/{subscription.id}/secret", [], page)
    new_secret = _secret_in(html)
    assert status == 200 and new_secret != receiver.secret
    receiver.secret = new_secret
    await _post(http, f"{page}/{subscription.id}/test", [], page)
    assert (await asyncio.wait_for(receiver.arrived.get(), 10))["valid"]

    # Editing with a bad address keeps the old one and names the field.
    status, html, _ = await _post(
        http, f"{page}/{subscription.id}", [("url", "nota url"), ("event_types", "task.done")], page
    )
    assert status == 422 and "not an http:// or https:// address" in html
    assert (await WebhookSubscription.get(id=subscription.id)).url == receiver.url

    status, _html, location = await _post(http, f"{page}/{subscription.id}/delete", [], page)
    assert status == 303 and await WebhookSubscription.all().count() == 0
    assert (await _get(http, f"{page}/{subscription.id}"))[0] == 404
    assert (await _get(http, f"{page}/{10**30}"))[0] == 404
    status, _html, _ = await _post(http, f"{page}/{10**30}/test", [], page)
    assert status == 404
    status, html, _ = await _post(
        http,
        page,
        [("url", "http://[::1"), ("event_types", "deal.sold"), ("description", "x" * 201)],
        page,
    )
    assert status == 422 and "unknown event type: deal.sold" in html
    assert "not an http:// or https:// address" in html and "at most 200 characters" in html


async def test_a_client_created_in_the_panel_reaches_the_receiver(
    world, hooks_server, http, receiver
):
    url = hooks_server.url
    await http_login(http, url, "ana", world.password)
    page = f"{url}/settings/webhooks"
    data = [("url", receiver.url), ("event_types", "client.created")]
    _status, html, _ = await _post(http, page, data, page)
    receiver.secret = _secret_in(html)

    await http.post(f"{url}/logout", data={"csrf_token": csrf_from(html)})
    http.cookie_jar.clear()
    await http_login(http, url, "luis", world.password)
    status, _html, location = await _post(
        http,
        f"{url}/clients/new",
        [("name", "Rosa Campos"), ("phones", "+34 611 222 333"), ("type", "person")],
        f"{url}/clients/new",
    )
    assert status == 303, _html
    seen = await asyncio.wait_for(receiver.arrived.get(), 10)
    client_id = int(location.rstrip("/").split("/")[-1])
    assert seen["valid"] and seen["event"] == "client.created"
    assert seen["body"]["data"] == {"client_id": client_id, "responsible_id": world.luis.id}
    assert seen["body"]["type"] == "client.created" and "occurred_at" in seen["body"]


async def test_an_agent_is_refused(world, hooks_server, http, receiver):
    url = hooks_server.url
    await http_login(http, url, "luis", world.password)
    status, html = await _get(http, f"{url}/settings/profile")
    assert 'href="/settings/webhooks"' not in html
    assert (await _get(http, f"{url}/settings/webhooks"))[0] == 403
    status, _html, _ = await _post(
        http,
        f"{url}/settings/webhooks",
        [("url", receiver.url), ("event_types", "lead.created")],
        f"{url}/settings/profile",
    )
    assert status == 403 and await WebhookSubscription.all().count() == 0


async def test_the_page_speaks_spanish(world, hooks_server, http):
    await User.filter(id=world.ana.id).update(language="es")
    url = hooks_server.url
    await http_login(http, url, "ana", world.password)
    page = f"{url}/settings/webhooks"
    status, html = await _get(http, page)
    assert status == 200 and "Nuevo webhook" in html and "Llamada perdida" in html
    status, html, _ = await _post(http, page, [("url", "")], page)
    assert status == 422
    assert "indica la dirección a la que enviar los eventos" in html
    assert "elige al menos un evento" in html


async def test_a_lead_made_converted_and_its_deal_won_in_the_panel_are_all_sent(
    world, hooks_server, http, receiver
):
    url = hooks_server.url
    await http_login(http, url, "ana", world.password)
    page = f"{url}/settings/webhooks"
    wanted = ["lead.created", "client.created", "deal.moved", "deal.won", "deal.lost"]
    _status, html, _ = await _post(
        http, page, [("url", receiver.url), *[("event_types", e) for e in wanted]], page
    )
    receiver.secret = _secret_in(html)

    status, _html, location = await _post(
        http, f"{url}/leads/new", [("name", "Iván Soler"), ("phones", "+34 622 000 111")], page
    )
    assert status == 303, _html
    made = await asyncio.wait_for(receiver.arrived.get(), 10)
    lead_id = made["body"]["data"]["lead_id"]
    assert (await Lead.get(id=lead_id)).name == "Iván Soler"
    status, _html, location = await _post(
        http,
        f"{url}/leads/{lead_id}/convert",
        [("with_deal", "1"), ("deal_title", "Centralita 10 puestos"), ("deal_amount", "900")],
        page,
    )
    assert status == 303, _html
    client_id = int(location.rstrip("/").split("/")[-1])
    converted = await asyncio.wait_for(receiver.arrived.get(), 10)
    assert made["event"] == "lead.created" and converted["event"] == "client.created"
    assert converted["body"]["data"] == {"client_id": client_id, "responsible_id": world.ana.id}
    first = [made, converted]

    # The kanban's drop: a JSON fetch with the page's CSRF token.
    deal = await Deal.get(client_id=client_id)
    _status, html = await _get(http, page)
    async with http.post(
        f"{url}/api/deals/{deal.id}/move",
        json={"status": "won"},
        headers={"X-CSRF-Token": csrf_from(html)},
    ) as resp:
        assert resp.status == 200
    moved = [await asyncio.wait_for(receiver.arrived.get(), 10) for _ in range(2)]
    assert sorted(s["event"] for s in moved) == ["deal.moved", "deal.won"]
    assert all(s["valid"] for s in first + moved)
    assert moved[0]["body"]["data"] == {
        "deal_id": deal.id,
        "from_status": "new",
        "to_status": "won",
        "user_id": world.ana.id,
    }
    assert len({s["body"]["id"] for s in first + moved}) == 4  # one id per delivery
