"""The SMS gateway interface and the outbox sender of kind "sms".

A gateway sends one part of a message and returns its reference for delivery reports, or
raises the outbox's RetryLater (outage, 5xx, timeout: the message waits and is retried) or
PermanentFailure (refused: the SMS is marked failed with the reason).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from models import outbox
from models import sms as sms_ops
from models.clock import Clock

logger = logging.getLogger(__name__)


class SmsGateway(Protocol):
    name: str

    async def send(self, to: str, text: str, ref: str) -> str:
        """Send one part; return the gateway's reference of it."""
        ...


class SmsSender:
    """Registered on the outbox worker for kind "sms": sends every part, records the result."""

    def __init__(self, gateway: SmsGateway, clock: Clock) -> None:
        self.gateway = gateway
        self.clock = clock

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
        await sms_ops.mark_sent(sms_id, refs[0], clock=self.clock)
        logger.info("SMS %s sent through %s (%d part(s))", sms_id, self.gateway.name, len(parts))
        return {"refs": refs}
