"""SMS over AMI through a GSM gateway running chan_dongle.

Sending is the `DongleSendSMS` action (Device, Number, Message); its answer carries the
message ID that the later `DongleSMSStatus` events name. Feed `DongleEvents.on_event` with
the link's events (next to the calls service): it stores inbound SMS (`DongleNewSMS`, auto-lead
for unknown numbers per G4) and applies delivery statuses.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from models.core.clock import Clock
from models.core.errors import TelephonyError
from models.messaging import outbox
from models.messaging import sms as sms_ops
from models.telephony.caller_directory import CallerDirectory

logger = logging.getLogger(__name__)

# DongleSMSStatus Status -> our delivery status.
_STATUS = {
    "sent": sms_ops.SENT,
    "delivered": sms_ops.DELIVERED,
    "notsent": sms_ops.FAILED,
    "failed": sms_ops.FAILED,
    "undelivered": sms_ops.FAILED,
}


class ActionSender(Protocol):
    async def send_action(self, action: dict[str, Any], *, limit: float | None = None) -> Any: ...

    @property
    def is_ready(self) -> bool: ...


class DongleGateway:
    name = "dongle"

    def __init__(self, link: ActionSender, device: str) -> None:
        self.link = link
        self.device = device

    async def send(self, to: str, text: str, ref: str) -> str:
        if not self.link.is_ready:
            raise outbox.RetryLater("the PBX link is down: the SMS waits")
        try:
            answer = await self.link.send_action(
                {
                    "Action": "DongleSendSMS",
                    "Device": self.device,
                    "Number": to,
                    # AMI is line-based: a new line would end the action early.
                    "Message": text.replace("\r", " ").replace("\n", " "),
                }
            )
        except TelephonyError as err:
            raise outbox.RetryLater(f"DongleSendSMS: {err}") from err
        if answer.get("Response") != "Success":
            message = answer.get("Message", "")
            if "not connected" in message.lower() or "not free" in message.lower():
                raise outbox.RetryLater(f"the dongle cannot send now: {message}")
            raise outbox.PermanentFailure(f"the dongle refused the SMS: {message}")
        return answer.get("ID") or ref


class DongleEvents:
    """Inbound SMS and delivery statuses from chan_dongle's AMI events."""

    def __init__(self, clock: Clock, callers: CallerDirectory | None = None) -> None:
        self.clock = clock
        self.callers = callers

    async def on_event(self, event: dict[str, str]) -> None:
        kind = event.get("Event")
        if kind == "DongleNewSMS":
            await self._new_sms(event)
        elif kind == "DongleSMSStatus":
            status = _STATUS.get(event.get("Status", "").replace(" ", "").lower())
            if status is None or not event.get("ID"):
                return
            await sms_ops.apply_status(
                status, clock=self.clock, gateway_ref=event["ID"], error=event.get("Status", "")
            )

    async def _new_sms(self, event: dict[str, str]) -> None:
        text = event.get("Message")
        if text is None:  # chan_dongle splits long texts into MessageLine0..N
            count = int(event.get("LineCount") or 0)
            text = "\n".join(event.get(f"MessageLine{i}", "") for i in range(count))
        number = event.get("From", "")
        if not number:
            return
        sms = await sms_ops.receive_sms(number, text, clock=self.clock, callers=self.callers)
        logger.info("SMS %s received from %s on %s", sms.id, number, event.get("Device"))
