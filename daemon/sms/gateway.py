"""The SMS gateway interface and the outbox sender of kind "sms".

A gateway sends one part of a message and returns its reference for delivery reports, or
raises the outbox's RetryLater (outage, 5xx, timeout: the message waits and is retried) or
PermanentFailure (refused: the SMS is marked failed with the reason).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from tortoise.transactions import in_transaction

from models.core.clock import Clock
from models.messaging import outbox
from models.messaging import sms as sms_ops

logger = logging.getLogger(__name__)


class SmsGateway(Protocol):
    name: str

    async def send(self, to: str, text: str, ref: str) -> str:
        """Send one part; return the gateway's reference of it."""
        ...


class _SentBatch:
    """Records "sent" for the SMS the concurrent senders finish, several in one transaction:
    each sender still waits until its own row is written before the outbox row is marked."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._waiting: list[tuple[int, str, asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def mark(self, sms_id: int, ref: str) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((sms_id, ref, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(
                self._flush(), name="sms-mark-sent"
            )
        await asyncio.shield(future)

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the senders finishing in this turn join
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with in_transaction():
                    for sms_id, ref, _ in batch:
                        await sms_ops.mark_sent(sms_id, ref, clock=self.clock)
            except Exception as err:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(err)
                continue
            for _, _, future in batch:
                if not future.done():
                    future.set_result(None)


class SmsSender:
    """Registered on the outbox worker for kind "sms": sends every part, records the result."""

    def __init__(self, gateway: SmsGateway, clock: Clock) -> None:
        self.gateway = gateway
        self.clock = clock
        self._sent = _SentBatch(clock)

    async def __call__(self, payload: dict[str, Any]) -> dict[str, Any]:
        sms_id = int(payload["sms_id"])
        parts: list[str] = list(payload["parts"])
        refs: list[str] = []
        try:
            for index, part in enumerate(parts):
                ref = str(sms_id) if len(parts) == 1 else f"{sms_id}.{index + 1}"
                refs.append(await self.gateway.send(payload["to"], part, ref))
        except outbox.PermanentFailure as err:
            await sms_ops.mark_failed(sms_id, str(err))
            raise
        await self._sent.mark(sms_id, refs[0])
        logger.info("SMS %s sent through %s (%d part(s))", sms_id, self.gateway.name, len(parts))
        return {"refs": refs}
