"""Outgoing webhooks (X3): admins subscribe an outside URL to chosen events; each event is one
`WebhookDelivery` per matching subscription (the delivery log) and one outbox row of kind
"webhook" that daemon/webhook_send.py POSTs, signed with HMAC-SHA256 under the subscription's
secret.

The secret is generated here, shown once, and kept sealed with the installation's SecretBox:
it must be read back to sign. Every body has the same envelope:
    {"id": "<uuid, also X-Centralita-Delivery>", "type": "lead.created",
     "occurred_at": "2026-11-25T10:00:00+00:00", "data": {...}}
and `data` per type is documented in EVENT_TYPES (models/messaging/webhook_types.py).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.core.clock import Clock
from models.core.errors import NotFound, ValidationFailed, msg
from models.core.secret_box import SecretBox
from models.core.sql import is_id
from models.messaging import outbox
from models.messaging.webhook_types import EVENT_TYPES, TEST_EVENT
from models.people.permissions import require
from models.schema.integrations import WebhookDelivery, WebhookSubscription
from models.schema.users import User

__all__ = ["EVENT_TYPES", "TEST_EVENT"]

KIND = "webhook"  # the outbox kind
RIGHT = "settings.manage"
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
PAUSE_AFTER = 10  # failed attempts in a row (over all its deliveries) that pause a subscription
SIGNATURE_VERSION = "v1"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Centralita-Signature value: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, "sha256")
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """Whether `header` is the signature of `body` sent at `timestamp` (what receivers do)."""
    return hmac.compare_digest(sign(secret, timestamp, body), header.strip())


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _check_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise ValidationFailed({"url": msg("enter the address to send events to")})
    scheme, host = "", None
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        host = None
    if scheme not in ("http", "https") or not host or len(url) > 2000 or " " in url:
        raise ValidationFailed(
            {"url": msg("not an http:// or https:// address: %(value)s", value=url[:80])}
        )
    return url


def _check_events(event_types: list[str]) -> list[str]:
    unknown = [e for e in event_types if e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(
            {"event_types": msg("unknown event type: %(value)s", value=unknown[0][:40])}
        )
    chosen = [e for e in EVENT_TYPES if e in set(event_types)]
    if not chosen:
        raise ValidationFailed({"event_types": msg("choose at least one event")})
    return chosen


def _checked(url: str, event_types: list[str], description: str) -> tuple[str, list[str]]:
    """Every field checked before anything is written; all the errors at once."""
    errors: dict[str, str] = {}
    checked_url = ""
    chosen: list[str] = []
    try:
        checked_url = _check_url(url)
    except ValidationFailed as err:
        errors.update(err.fields)
    try:
        chosen = _check_events(event_types)
    except ValidationFailed as err:
        errors.update(err.fields)
    if len(description.strip()) > 200:
        errors["description"] = msg("at most %(n)s characters", n=200)
    if errors:
        raise ValidationFailed(errors)
    return checked_url, chosen


async def create_subscription(
    user: User,
    *,
    url: str,
    event_types: list[str],
    description: str,
    box: SecretBox,
) -> tuple[WebhookSubscription, str]:
    """A new enabled subscription and its plain secret (shown once, never again)."""
    require(user, RIGHT)
    checked_url, chosen = _checked(url, event_types, description)
    secret = new_secret()
    subscription = await WebhookSubscription.create(
        url=checked_url,
        event_types=chosen,
        secret_encrypted=box.seal(secret),
        description=description.strip(),
        created_by_id=user.id,
    )
    return subscription, secret


async def update_subscription(
    user: User, subscription_id: Any, *, url: str, event_types: list[str], description: str
) -> WebhookSubscription:
    """Change the address, the events or the description (the secret stays)."""
    subscription = await get_subscription(user, subscription_id)
    checked_url, chosen = _checked(url, event_types, description)
    await WebhookSubscription.filter(id=subscription.id).update(
        url=checked_url, event_types=chosen, description=description.strip()
    )
    await subscription.refresh_from_db()
    return subscription


async def rotate_secret(user: User, subscription_id: Any, *, box: SecretBox) -> str:
    """A new secret for the subscription, returned once; the old one stops signing at once."""
    subscription = await get_subscription(user, subscription_id)
    secret = new_secret()
    await WebhookSubscription.filter(id=subscription.id).update(secret_encrypted=box.seal(secret))
    return secret


async def subscriptions(user: User) -> list[WebhookSubscription]:
    require(user, RIGHT)
    return await WebhookSubscription.all().order_by("id")


async def get_subscription(user: User, subscription_id: Any) -> WebhookSubscription:
    require(user, RIGHT)
    found = None
    if is_id(subscription_id):
        found = await WebhookSubscription.get_or_none(id=int(subscription_id))
    if found is None:
        raise NotFound(msg("the webhook does not exist"))
    return found


async def set_enabled(user: User, subscription_id: Any, enabled: bool) -> WebhookSubscription:
    """Pause or resume; resuming forgets the failures and the reason of an automatic pause."""
    subscription = await get_subscription(user, subscription_id)
    changes: dict[str, Any] = {"enabled": enabled}
    if enabled:
        changes.update(consecutive_failures=0, paused_at=None, paused_reason="")
    await WebhookSubscription.filter(id=subscription.id).update(**changes)
    await subscription.refresh_from_db()
    return subscription


async def delete_subscription(user: User, subscription_id: Any) -> None:
    """The subscription and its log; its deliveries still in the outbox are dropped when due."""
    subscription = await get_subscription(user, subscription_id)
    await subscription.delete()


async def deliveries(user: User, subscription_id: Any, limit: int = 50) -> list[WebhookDelivery]:
    """The newest deliveries of one subscription, for the log."""
    subscription = await get_subscription(user, subscription_id)
    return (
        await WebhookDelivery.filter(subscription_id=subscription.id).order_by("-id").limit(limit)
    )


async def _write(
    subscription_ids: list[int], event_type: str, data: dict[str, Any], at: datetime, clock: Clock
) -> list[WebhookDelivery]:
    written = []
    for subscription_id in subscription_ids:
        event_id = str(uuid.uuid4())
        body = {"id": event_id, "type": event_type, "occurred_at": at.isoformat(), "data": data}
        delivery = await WebhookDelivery.create(
            subscription_id=subscription_id,
            event_id=event_id,
            event_type=event_type,
            payload=body,
        )
        await outbox.enqueue(
            KIND,
            {"delivery_id": delivery.id},
            clock=clock,
            dedupe_key=f"{KIND}:{event_id}",
            key_is_new=True,
        )
        written.append(delivery)
    return written


async def queue_event(
    event_type: str, data: dict[str, Any], *, clock: Clock, at: datetime | None = None
) -> list[WebhookDelivery]:
    """One delivery and one outbox row per enabled subscription to `event_type`, written
    together (a delivery without its outbox row would never leave). A paused subscription
    gets none: events that happen while it is paused are not kept for it."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    wanted = [
        s.id
        for s in await WebhookSubscription.filter(enabled=True).only("id", "event_types")
        if event_type in (s.event_types or [])
    ]
    if not wanted:
        return []
    async with in_transaction():
        return await _write(wanted, event_type, data, at or clock.now(), clock)


async def send_test(user: User, subscription_id: Any, *, clock: Clock) -> WebhookDelivery:
    """A "webhook.test" event to this subscription alone (even when paused: to check a fix)."""
    subscription = await get_subscription(user, subscription_id)
    data = {"message": "A test event from Centralita CRM.", "subscription_id": subscription.id}
    async with in_transaction():
        [delivery] = await _write([subscription.id], TEST_EVENT, data, clock.now(), clock)
    return delivery


async def record_delivered(
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    code: int,
    excerpt: str,
    at: datetime,
) -> None:
    """The attempt that delivered: its answer in the log, the failures in a row forgotten."""
    await WebhookDelivery.filter(id=delivery.id).update(
        status=DELIVERED,
        attempts=F("attempts") + 1,
        response_code=code,
        response_excerpt=excerpt[:500],
        delivered_at=at,
    )
    if subscription.consecutive_failures:
        await WebhookSubscription.filter(id=subscription.id).update(consecutive_failures=0)


async def _pause(subscription: WebhookSubscription, reason: str, at: datetime) -> bool:
    """Pause it unless it is paused already; `reason` is the last failure (an HTTP code or
    the network's error), in no language, so that each reader's page can say it."""
    paused = await WebhookSubscription.filter(id=subscription.id, enabled=True).update(
        enabled=False, paused_at=at, paused_reason=reason[:500]
    )
    return bool(paused)


def _what(code: int | None, excerpt: str) -> str:
    return f"HTTP {code}" if code is not None else excerpt[:200]


async def record_failure(
    delivery: WebhookDelivery, code: int | None, excerpt: str, at: datetime
) -> WebhookSubscription | None:
    """A failed attempt: its answer in the log (the delivery stays pending for a retry). After
    PAUSE_AFTER failed attempts in a row the subscription is paused; returns it when this call
    paused it (to tell the admins)."""
    await WebhookDelivery.filter(id=delivery.id).update(
        attempts=F("attempts") + 1, response_code=code, response_excerpt=excerpt[:500]
    )
    # One atomic increment: concurrent failures of one subscription all count.
    await WebhookSubscription.filter(id=delivery.subscription_id).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    subscription = await WebhookSubscription.get_or_none(id=delivery.subscription_id)
    if (
        subscription is None
        or not subscription.enabled
        or subscription.consecutive_failures < PAUSE_AFTER
    ):
        return None
    if not await _pause(subscription, _what(code, excerpt), at):
        return None
    await subscription.refresh_from_db()
    return subscription


async def record_given_up(delivery_id: Any, error: str, at: datetime) -> WebhookSubscription | None:
    """No more retries: the delivery failed, and its subscription is paused (returned when this
    call paused it) since every retry over the backoff's span failed too."""
    if not is_id(delivery_id):
        return None
    delivery = await WebhookDelivery.get_or_none(id=delivery_id)
    if delivery is None or delivery.status != PENDING:
        return None
    async with in_transaction():
        await WebhookDelivery.filter(id=delivery.id).update(status=FAILED)
        subscription = await WebhookSubscription.get_or_none(id=delivery.subscription_id)
        if subscription is None or not subscription.enabled:
            return None
        what = _what(delivery.response_code, delivery.response_excerpt or error)
        if not await _pause(subscription, what, at):
            return None
    await subscription.refresh_from_db()
    return subscription


KEEP_LOG = timedelta(days=30)


async def purge_log(now: datetime, *, keep: timedelta = KEEP_LOG) -> int:
    """Forget delivered and failed deliveries older than `keep` (the log shows recent ones);
    pending ones stay whatever their age: they are still to be sent."""
    return await WebhookDelivery.filter(
        status__in=[DELIVERED, FAILED], created_at__lt=now - keep
    ).delete()
