"""Wiring of the auto-dialer runner and the SMS gateway (issue 8), for the composition root.

`start_outreach` registers the configured SMS gateway on the outbox worker (before the worker
starts), feeds chan_dongle's events from the PBX link when the dongle driver is on, and starts
the dialer runner; `sms_task_job` is the scheduler's minute job for SMS tasks (T2).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from daemon.dialer import DialerRunner, channel_calls, live_calls
from daemon.outbox_worker import OutboxWorker
from daemon.sms.dongle import DongleEvents
from daemon.sms.wiring import policy_of, register_sms
from models.core.clock import Clock
from models.core.hub import Hub
from models.core.settings import Settings
from models.messaging.sms import send_due_sms_tasks

logger = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[Any]]


async def start_outreach(
    settings: Settings, hub: Hub, clock: Clock, telephony: Any, worker: OutboxWorker
) -> tuple[DialerRunner, list[Closer]]:
    """Start the dialer runner and hook SMS up; returns the runner and what stops it all."""
    closers: list[Closer] = []
    gateway = register_sms(worker, settings.sms, telephony.link, clock)
    close_gateway = getattr(gateway, "close", None)
    if close_gateway is not None:
        closers.append(close_gateway)
    if settings.sms.driver == "dongle":
        telephony.listeners.append(DongleEvents(clock).on_event)
    logger.info("SMS driver: %s", settings.sms.driver)
    runner = DialerRunner(
        hub,
        clock,
        gap_seconds=settings.dialer.gap_seconds,
        link_ready=lambda: telephony.link.is_ready,
        agent_calls=channel_calls(telephony.commands.directory),
        live_linkedids=live_calls(telephony.commands.directory),
    )
    telephony.listeners.append(runner.on_ami_event)
    await runner.start()
    closers.append(runner.stop)
    return runner, closers


def sms_task_job(settings: Settings, clock: Clock) -> Callable[[], Awaitable[Any]] | None:
    """The scheduler's every-minute job sending due SMS tasks; None while SMS is off (the
    tasks stay open instead of being closed with nothing sent)."""
    if settings.sms.driver == "none":
        return None
    policy = policy_of(settings.sms)
    return lambda: send_due_sms_tasks(clock, policy)
