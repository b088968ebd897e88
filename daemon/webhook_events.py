"""The hub subscriber that turns domain events into webhook deliveries (models/messaging/
webhooks.py): one WebhookDelivery and one outbox row per enabled subscription to the type,
then the outbox worker is woken to send them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from models.core.clock import Clock
from models.core.db import while_busy
from models.core.events import (
    CallAnswered,
    CallEnded,
    CallMissed,
    CallRang,
    ClientCreated,
    DealMoved,
    LeadCreated,
    TaskDone,
)
from models.core.hub import Hub, Subscription
from models.messaging import webhooks as hooks

logger = logging.getLogger(__name__)

EVENTS = (
    CallRang,
    CallAnswered,
    CallEnded,
    CallMissed,
    LeadCreated,
    ClientCreated,
    DealMoved,
    TaskDone,
)


def _when(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def translate(event: Any) -> list[tuple[str, dict[str, Any]]]:
    """The webhook event types and `data` for one domain event (documented in EVENT_TYPES)."""
    if isinstance(event, CallRang):
        card = event.card
        data = {
            "linkedid": event.linkedid,
            "direction": event.direction,
            "extension": event.extension,
            "user_id": event.user_id,
            "number": card.e164 or card.number,
            "client_id": card.client_id,
            "lead_id": card.lead_id,
            "did": event.did,
            "at": _when(event.at),
        }
        return [("call.ringing", data)]
    if isinstance(event, CallAnswered):
        data = {
            "linkedid": event.linkedid,
            "extension": event.extension,
            "user_id": event.user_id,
            "at": _when(event.at),
        }
        return [("call.answered", data)]
    if isinstance(event, CallEnded):
        data = {
            "linkedid": event.linkedid,
            "call_id": event.call_id,
            "extension": event.extension,
            "user_id": event.user_id,
            "result": event.result,
            "talk_seconds": event.talk_seconds,
            "wait_seconds": event.wait_seconds,
            "at": _when(event.at),
        }
        return [("call.ended", data)]
    if isinstance(event, CallMissed):
        data = {
            "linkedid": event.linkedid,
            "call_id": event.call_id,
            "extension": event.extension,
            "user_id": event.user_id,
            "number": event.card.e164 or event.card.number,
            "client_id": event.card.client_id,
            "lead_id": event.card.lead_id,
        }
        return [("call.missed", data)]
    if isinstance(event, LeadCreated):
        data = {
            "lead_id": event.lead_id,
            "source": event.source,
            "responsible_id": event.responsible_id,
        }
        return [("lead.created", data)]
    if isinstance(event, ClientCreated):
        data = {"client_id": event.client_id, "responsible_id": event.responsible_id}
        return [("client.created", data)]
    if isinstance(event, DealMoved):
        data = {
            "deal_id": event.deal_id,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "user_id": event.user_id,
        }
        found = [("deal.moved", data)]
        if event.to_status == "won":
            found.append(("deal.won", data))
        elif event.to_status == "cancelled":
            found.append(("deal.lost", data))
        return found
    if isinstance(event, TaskDone):
        return [("task.done", {"task_id": event.task_id, "user_id": event.user_id})]
    return []


class WebhookEvents:
    """Subscribed to the hub while the daemon runs; `wake` tells the outbox worker."""

    def __init__(self, hub: Hub, clock: Clock, wake: Callable[[], None]) -> None:
        self.hub = hub
        self.clock = clock
        self.wake = wake
        self._sub: Subscription | None = None

    def start(self) -> None:
        self._sub = self.hub.subscribe("webhooks", self.handle, *EVENTS, after_live=True)

    async def stop(self) -> None:
        if self._sub is not None:
            await self.hub.unsubscribe(self._sub)
            self._sub = None

    async def handle(self, event: Any) -> None:
        queued = 0
        at = getattr(event, "at", None)  # the call events carry their time; others: now
        for event_type, data in translate(event):
            # Written in one transaction: a try the database could not answer left nothing,
            # so it is tried again rather than losing the event (PostgreSQL restarted).
            found = await while_busy(
                lambda t=event_type, d=data: hooks.queue_event(t, d, clock=self.clock, at=at),
                what=f"webhook event {event_type}",
            )
            queued += len(found)
        if queued:
            self.wake()
