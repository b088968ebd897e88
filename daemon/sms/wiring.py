"""Build the configured SMS gateway and its outbox sender (for the composition root)."""

from __future__ import annotations

from daemon.outbox_worker import OutboxWorker, RateLimit
from daemon.sms.dongle import ActionSender, DongleGateway
from daemon.sms.gateway import SmsGateway, SmsSender
from daemon.sms.http_gateway import HttpGateway
from models.core.clock import Clock
from models.core.settings import SmsSettings
from models.messaging.sms import KIND, SmsPolicy


def policy_of(settings: SmsSettings) -> SmsPolicy:
    return SmsPolicy(max_length=settings.max_length, long_messages=settings.long_messages)


def build_gateway(settings: SmsSettings, link: ActionSender | None) -> SmsGateway | None:
    """The gateway `[sms] driver` names; None when SMS is off (driver = "none")."""
    if settings.driver == "http":
        return HttpGateway(settings)
    if settings.driver == "dongle":
        if link is None:
            raise ValueError('[sms] driver = "dongle" needs the PBX link')
        return DongleGateway(link, settings.dongle_device)
    return None


def register_sms(
    worker: OutboxWorker, settings: SmsSettings, link: ActionSender | None, clock: Clock
) -> SmsGateway | None:
    """Send outbox rows of kind "sms" through the configured gateway, within its rate."""
    gateway = build_gateway(settings, link)
    if gateway is not None:
        worker.register(
            KIND,
            SmsSender(gateway, clock),
            rate=RateLimit(settings.messages_per_second, per_key_interval=0.0),
            key_of=lambda payload: payload["to"],
        )
    return gateway
