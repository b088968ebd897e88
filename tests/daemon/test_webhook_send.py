"""Outgoing webhooks through the outbox against a real local aiohttp receiver that checks the
signature the way the README tells integrators to: a 500 is retried with the same delivery id
and then delivered, never twice; a 4xx or a refused connection ends, once the worker gives up,
in a failed row with its code or error; repeated failures pause the subscription and tell the
linked admins on Telegram; domain and call events reach the receiver through the hub, the
subscriber and the running worker."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bot.delivery import KIND as TELEGRAM_KIND
from bot.delivery import TelegramOutbox
from daemon.outbox_worker import OutboxWorker
from daemon.webhook_events import WebhookEvents
from daemon.webhook_send import register_webhooks
from models.core.events import CallerCard, CallMissed, CallRang, DealMoved
from models.core.secret_box import SecretBox
from models.messaging import webhooks as hooks
from models.sales.leads import LeadInput, create_lead
from models.schema.integrations import WebhookDelivery, WebhookSubscription
from models.schema.outbox import OutboxMessage
from models.schema.users import User

BOX = SecretBox(b"3" * 43 + b"=")


def verify(secret: str, headers, body: bytes) -> bool:
    """The README's recipe, word for word."""
    timestamp = headers["X-Centralita-Timestamp"]
    signed = timestamp.encode() + b"." + body
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Centralita-Signature"])


@dataclass
class Receiver:
    """A local endpoint answering the codes it is given in turn (then 200)."""

    secret: str = ""
    answers: list[int] = field(default_factory=list)
    seen: list[dict] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.seen.append(
            {
                "valid": verify(self.secret, request.headers, body),
                "event": request.headers["X-Centralita-Event"],
                "delivery": request.headers["X-Centralita-Delivery"],
                "timestamp": request.headers["X-Centralita-Timestamp"],
                "signature": request.headers["X-Centralita-Signature"],
                "raw": body,
                "body": json.loads(body),
            }
        )
        self.arrived.set()
        code = self.answers.pop(0) if self.answers else 200
        return web.Response(status=code, text=f"answer {code}")


@pytest.fixture
async def receiver():
    state = Receiver()
    app = web.Application()
    app.router.add_post("/hook", state.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}/hook"
    yield state
    await runner.cleanup()


async def _subscribe(world, url, events=("lead.created",)):
    return await hooks.create_subscription(
        world.ana, url=url, event_types=list(events), description="CRM sync", box=BOX
    )


async def _subscribe_receiver(world, receiver, events=("lead.created",)):
    subscription, secret = await _subscribe(world, receiver.url, events)
    receiver.secret = secret
    return subscription


@pytest.fixture
async def sender(clock):
    worker = OutboxWorker(clock=clock)
    webhook_sender = register_webhooks(worker, BOX, clock, telegram=TelegramOutbox(clock))
    yield worker
    await webhook_sender.close()


async def test_the_signature_verifies_with_the_documented_recipe_and_a_new_secret(
    world, receiver, sender, clock
):
    subscription = await _subscribe_receiver(world, receiver)
    [queued] = await hooks.queue_event("lead.created", {"lead_id": 7}, clock=clock)
    await sender.run_once()
    [seen] = receiver.seen
    assert seen["valid"] and seen["event"] == "lead.created"
    assert seen["timestamp"] == str(int(clock.now().timestamp()))
    assert seen["body"] == {
        "id": queued.event_id,
        "type": "lead.created",
        "occurred_at": "2026-11-25T10:00:00+00:00",
        "data": {"lead_id": 7},
    }
    assert seen["delivery"] == queued.event_id
    assert seen["signature"].startswith("v1=")
    assert hooks.verify(receiver.secret, seen["timestamp"], seen["raw"], seen["signature"])
    tampered = seen["raw"].replace(b'"lead_id":7', b'"lead_id":8')
    assert not hooks.verify(receiver.secret, seen["timestamp"], tampered, seen["signature"])

    # A new secret: the old one no longer verifies what is sent.
    old = receiver.secret
    receiver.secret = await hooks.rotate_secret(world.ana, subscription.id, box=BOX)
    assert receiver.secret != old
    await hooks.queue_event("lead.created", {"lead_id": 8}, clock=clock)
    await sender.run_once()
    again = receiver.seen[1]
    assert again["valid"]
    assert not hooks.verify(old, again["timestamp"], again["raw"], again["signature"])


async def test_a_500_is_retried_with_the_same_id_then_delivered_once(
    world, receiver, sender, clock
):
    subscription = await _subscribe_receiver(world, receiver)
    receiver.answers = [500]
    [queued] = await hooks.queue_event("lead.created", {"lead_id": 7}, clock=clock)

    await sender.run_once()
    delivery = await WebhookDelivery.get(id=queued.id)
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("pending", 500, 1)
    assert "answer 500" in delivery.response_excerpt

    await sender.run_once()  # the retry waits for its backoff
    assert len(receiver.seen) == 1
    clock.advance(seconds=5)
    await sender.run_once()
    await sender.run_once()
    clock.advance(seconds=3600)
    await sender.run_once()

    assert len(receiver.seen) == 2, "delivered once after the retry, never again"
    assert all(seen["valid"] for seen in receiver.seen)
    assert receiver.seen[0]["delivery"] == receiver.seen[1]["delivery"] == queued.event_id
    delivery = await WebhookDelivery.get(id=queued.id)
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("delivered", 200, 2)
    await subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0 and subscription.enabled


async def test_a_4xx_or_a_refused_connection_ends_in_a_failed_row_with_its_code(
    world, receiver, clock
):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    refused, _ = await _subscribe(world, f"http://127.0.0.1:{closed_port}/hook")
    await _subscribe_receiver(world, receiver)
    worker = OutboxWorker(clock=clock, max_attempts=3)
    webhook_sender = register_webhooks(worker, BOX, clock)
    receiver.answers = [404] * 5
    queued = await hooks.queue_event("lead.created", {"lead_id": 1}, clock=clock)
    try:
        for _ in range(4):
            await worker.run_once()
            clock.advance(seconds=3600)
    finally:
        await webhook_sender.close()
    assert len(receiver.seen) == 3, "retried, then given up"
    by_subscription = {
        d.subscription_id: d for d in await WebhookDelivery.filter(id__in=[q.id for q in queued])
    }
    gone = by_subscription[refused.id]
    assert (gone.status, gone.response_code, gone.attempts) == ("failed", None, 3)
    assert "Connect" in gone.response_excerpt  # the network's own words
    not_found = next(d for d in by_subscription.values() if d.subscription_id != refused.id)
    assert (not_found.status, not_found.response_code) == ("failed", 404)
    assert "answer 404" in not_found.response_excerpt
    # The outbox gave up: both subscriptions are paused, saying why.
    for subscription in await WebhookSubscription.all():
        assert not subscription.enabled and subscription.paused_reason
    assert (await WebhookSubscription.get(id=refused.id)).paused_reason.startswith("Client")


async def test_repeated_failures_pause_it_and_tell_the_admins(world, receiver, sender, clock):
    await User.filter(id=world.ana.id).update(telegram_chat_id=5550001, language="en")
    await User.filter(id=world.luis.id).update(telegram_chat_id=5550002)  # an agent: not told
    subscription = await _subscribe_receiver(world, receiver)
    receiver.answers = [503] * 30
    # Ten events failing once each: failures in a row across deliveries.
    queued = []
    for lead_id in range(hooks.PAUSE_AFTER):
        queued += await hooks.queue_event("lead.created", {"lead_id": lead_id}, clock=clock)
    await sender.run_once()
    assert len(receiver.seen) == hooks.PAUSE_AFTER
    await subscription.refresh_from_db()
    assert not subscription.enabled and subscription.paused_at is not None
    assert subscription.paused_reason == "HTTP 503"
    notices = await OutboxMessage.filter(kind=TELEGRAM_KIND)
    assert [n.payload["params"]["chat_id"] for n in notices] == [5550001]
    assert "was paused after repeated failures" in notices[0].payload["params"]["text"]
    assert receiver.url in notices[0].payload["params"]["text"]

    # Paused: the waiting deliveries are held, new events are not queued for it.
    clock.advance(seconds=3600)
    await sender.run_once()
    assert len(receiver.seen) == hooks.PAUSE_AFTER
    assert await hooks.queue_event("lead.created", {"lead_id": 99}, clock=clock) == []
    # Resumed: the held ones leave, once each.
    await hooks.set_enabled(world.ana, subscription.id, True)
    receiver.answers = []
    clock.advance(seconds=3600)
    await sender.run_once()
    assert len(receiver.seen) == 2 * hooks.PAUSE_AFTER
    assert all(seen["valid"] for seen in receiver.seen)
    statuses = {d.status for d in await WebhookDelivery.filter(id__in=[q.id for q in queued])}
    assert statuses == {"delivered"}


async def test_a_lead_created_reaches_the_receiver_through_the_running_daemon_parts(
    world, receiver, clock, hub
):
    await _subscribe_receiver(world, receiver, events=("lead.created", "client.created"))
    worker = OutboxWorker(clock=clock)
    webhook_sender = register_webhooks(worker, BOX, clock)
    events = WebhookEvents(hub, clock, worker.wake)
    events.start()
    await worker.start()
    try:
        lead = await create_lead(
            world.luis, LeadInput(name="Marisa Prieto", phones=["+34 600 111 222"]), hub=hub
        )
        await asyncio.wait_for(receiver.arrived.wait(), 10)
    finally:
        await worker.stop()
        await events.stop()
        await webhook_sender.close()
    [seen] = receiver.seen
    assert seen["valid"] and seen["event"] == "lead.created"
    assert seen["body"]["data"] == {
        "lead_id": lead.id,
        "source": lead.source,
        "responsible_id": world.luis.id,
    }


async def test_call_and_deal_events_become_their_webhook_types(world, receiver, clock, hub):
    wanted = ("call.ringing", "call.missed", "deal.moved", "deal.won")
    await _subscribe_receiver(world, receiver, events=wanted)
    events = WebhookEvents(hub, clock, lambda: None)
    events.start()
    card = CallerCard(number="600111222", e164="+34600111222", client_id=5)
    try:
        for event in (
            CallRang("171.1", "in", "101", world.luis.id, card, did="+34910000000", at=clock.now()),
            CallMissed("171.1", 9, "101", world.luis.id, card),
            DealMoved(3, "new", "won", world.ana.id),
            DealMoved(3, "won", "cancelled", world.ana.id),  # lost: not subscribed
        ):
            hub.publish(event)
        await hub.drain()
    finally:
        await events.stop()
    types = [d.event_type for d in await WebhookDelivery.all().order_by("id")]
    assert types == ["call.ringing", "call.missed", "deal.moved", "deal.won", "deal.moved"]
    ringing = await WebhookDelivery.filter(event_type="call.ringing").first()
    assert ringing.payload["data"] == {
        "linkedid": "171.1",
        "direction": "in",
        "extension": "101",
        "user_id": world.luis.id,
        "number": "+34600111222",
        "client_id": 5,
        "lead_id": None,
        "did": "+34910000000",
        "at": "2026-11-25T10:00:00+00:00",
    }


async def test_an_event_met_by_a_database_that_does_not_answer_is_queued_once_it_does(
    world, receiver, clock, hub, monkeypatch
):
    """PostgreSQL restarted under the webhooks subscriber (bench/faults.py saw the event
    dropped): the write is tried again, not lost."""
    import asyncpg

    from daemon import webhook_events
    from models.core import db

    await _subscribe_receiver(world, receiver, events=("call.ringing",))
    real = hooks.queue_event
    refusals = [asyncpg.exceptions.AdminShutdownError("terminating connection")]

    async def flaky(*args, **kwargs):
        if refusals:
            raise refusals.pop()
        return await real(*args, **kwargs)

    monkeypatch.setattr(webhook_events.hooks, "queue_event", flaky)
    monkeypatch.setattr(webhook_events, "while_busy", _quick(db.while_busy))
    events = WebhookEvents(hub, clock, lambda: None)
    events.start()
    try:
        card = CallerCard(number="600111222", e164="+34600111222")
        hub.publish(CallRang("172.1", "in", "101", world.luis.id, card, at=clock.now()))
        await hub.drain()
    finally:
        await events.stop()
    assert not refusals
    assert [d.event_type for d in await WebhookDelivery.all()] == ["call.ringing"]


def _quick(while_busy):
    async def quick(operation, *, what):
        return await while_busy(operation, what=what, pauses=(0.01,))

    return quick
