"""The outbox sender of kind "webhook": one signed POST per `WebhookDelivery`.

Headers: X-Centralita-Event, X-Centralita-Delivery (the delivery's id, the same on every retry:
receivers use it to drop duplicates), X-Centralita-Timestamp (Unix seconds) and
X-Centralita-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>"> under the
subscription's secret. A 2xx answer delivers; any other answer, a refused connection or a
timeout is retried by the outbox worker with backoff (a 429's Retry-After is honoured), and
the delivery fails when the worker gives up. Every attempt's code and the start of the answer
go to the delivery log. After PAUSE_AFTER failed attempts in a row, or a delivery given up,
the subscription is paused and the admins with a linked Telegram chat are told (the panel
shows the reason on Settings -> Webhooks). While a subscription is paused its pending
deliveries wait, and are sent when it is resumed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp

from bot.delivery import TelegramOutbox
from daemon.outbox_worker import OutboxWorker
from models.core.clock import Clock
from models.core.errors import msg
from models.core.secret_box import SecretBox, SecretUnreadable
from models.messaging import outbox
from models.messaging import webhooks as hooks
from models.people.permissions import has_right
from models.schema.integrations import WebhookDelivery, WebhookSubscription
from models.schema.users import User

logger = logging.getLogger(__name__)

PAUSED_WAIT = 60.0  # how often a paused subscription's waiting deliveries look again
MAX_RETRY_AFTER = 3600.0


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return None if seconds is None or seconds < 0 else min(seconds, MAX_RETRY_AFTER)


class WebhookSender:
    """Registered on the outbox worker for kind "webhook"; one shared HTTP session."""

    def __init__(
        self,
        box: SecretBox,
        clock: Clock,
        *,
        timeout: float = 10.0,
        telegram: TelegramOutbox | None = None,
    ) -> None:
        self.box = box
        self.clock = clock
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.telegram = telegram
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def __call__(self, payload: dict[str, Any]) -> dict[str, Any]:
        delivery = await WebhookDelivery.get_or_none(id=payload.get("delivery_id")).select_related(
            "subscription"
        )
        if delivery is None:
            raise outbox.PermanentFailure("the webhook or its delivery was deleted")
        if delivery.status != hooks.PENDING:
            return {"already": delivery.status}  # done before a crash: never sent twice
        subscription = delivery.subscription
        if not subscription.enabled and delivery.event_type != hooks.TEST_EVENT:
            raise outbox.NotReady("the webhook is paused", delay=PAUSED_WAIT)
        try:
            secret = self.box.open(subscription.secret_encrypted)
        except SecretUnreadable as err:
            error = "the webhook's secret cannot be read (another encryption key?)"
            await self._failed(delivery, None, error)
            await self.given_up(payload, error)
            raise outbox.PermanentFailure(error) from err
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(self.clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Centralita-Webhooks/1",
            "X-Centralita-Event": delivery.event_type,
            "X-Centralita-Delivery": delivery.event_id,
            "X-Centralita-Timestamp": timestamp,
            "X-Centralita-Signature": hooks.sign(secret, timestamp, body),
        }
        try:
            async with self._http().post(
                subscription.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                code = resp.status
                wait = _retry_after(resp.headers.get("Retry-After")) if code == 429 else None
                excerpt = (await resp.content.read(500)).decode("utf-8", "replace")
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as err:
            error = f"{type(err).__name__}: {err}"[:500]
            if isinstance(err, TimeoutError):
                error = f"no answer within {self.timeout.total:g} s"
            await self._failed(delivery, None, error)
            raise outbox.RetryLater(error) from err
        if 200 <= code < 300:
            await hooks.record_delivered(delivery, subscription, code, excerpt, self.clock.now())
            return {"status": code}
        await self._failed(delivery, code, excerpt)
        raise outbox.RetryLater(f"HTTP {code}", delay=wait)

    async def _failed(self, delivery: WebhookDelivery, code: int | None, excerpt: str) -> None:
        paused = await hooks.record_failure(delivery, code, excerpt, self.clock.now())
        if paused is not None:
            await self._tell_admins(paused)

    async def given_up(self, payload: dict[str, Any], error: str) -> None:
        """The outbox stopped retrying: the delivery failed and its subscription is paused."""
        paused = await hooks.record_given_up(payload.get("delivery_id"), error, self.clock.now())
        if paused is not None:
            await self._tell_admins(paused)

    async def _tell_admins(self, subscription: WebhookSubscription) -> None:
        """A Telegram message (through the outbox) to each admin with a linked chat."""
        logger.warning("webhook %s paused: %s", subscription.id, subscription.paused_reason)
        if self.telegram is None:
            return
        admins = await User.filter(is_active=True, telegram_chat_id__isnull=False).prefetch_related(
            "group"
        )
        for admin in admins:
            if not has_right(admin, hooks.RIGHT) or admin.telegram_chat_id is None:
                continue
            text = msg(
                "The webhook to %(url)s was paused after repeated failures (the last: %(reason)s). "
                "Check it in Settings → Webhooks and resume it.",
                url=subscription.url[:200],
                reason=subscription.paused_reason[:200],
            ).in_language(admin.language)
            await self.telegram.send(
                admin.telegram_chat_id,
                text,
                dedupe_key=f"webhook-paused:{subscription.id}:{subscription.paused_at}:{admin.id}",
            )


def register_webhooks(
    worker: OutboxWorker,
    box: SecretBox,
    clock: Clock,
    *,
    telegram: TelegramOutbox | None = None,
) -> WebhookSender:
    """Send outbox rows of kind "webhook"; the caller closes the sender's session at the end."""
    sender = WebhookSender(box, clock, telegram=telegram)
    worker.register(hooks.KIND, sender, on_give_up=sender.given_up)
    return sender
