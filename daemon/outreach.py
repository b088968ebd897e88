"""Wiring of the auto-dialer runner and the SMS gateway (issue 8), for the composition root.

`start_outreach` registers the configured SMS gateway on the outbox worker (before the worker
starts), feeds chan_dongle's events from the PBX link when the dongle driver is on, and starts
the dialer runner; `sms_task_job` is the scheduler's minute job for SMS tasks (T2).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from daemon.dialer import DialerRunner, channel_calls, live_calls
from daemon.outbox_worker import OutboxWorker
from daemon.sms.dongle import DongleEvents
from daemon.sms.wiring import policy_of, register_sms
from daemon.supervisor import Supervisor
from daemon.telephony import Telephony
from models.core.clock import Clock
from models.core.hub import Hub
from models.core.settings import Settings
from models.messaging.sms import send_due_sms_tasks

logger = logging.getLogger(__name__)


async def start_outreach(
    stack: AsyncExitStack,
    settings: Settings,
    hub: Hub,
    clock: Clock,
    telephony: Telephony,
    worker: OutboxWorker,
    supervisor: Supervisor,
) -> DialerRunner:
    """Hook SMS up and start the dialer runner; each part joins `stack` as it starts."""
    gateway = register_sms(worker, settings.sms, telephony.link, clock)
    close_gateway: Callable[[], Awaitable[None]] | None = getattr(gateway, "close", None)
    if close_gateway is not None:
        stack.push_async_callback(close_gateway)
    if settings.sms.driver == "dongle":
        # An SMS from a new number and a call from it take the same per-number lock.
        telephony.listeners.add(DongleEvents(clock, telephony.calls.directory).on_event)
    logger.info("SMS driver: %s", settings.sms.driver)
    runner = DialerRunner(
        hub,
        clock,
        gap_seconds=settings.dialer.gap_seconds,
        link_ready=lambda: telephony.link.is_ready,
        agent_calls=channel_calls(telephony.commands.directory),
        live_linkedids=live_calls(telephony.commands.directory),
        supervisor=supervisor,
    )
    telephony.listeners.add(runner.on_ami_event)
    await runner.start()
    stack.push_async_callback(runner.stop)
    return runner


def sms_task_job(
    settings: Settings, clock: Clock, hub: Hub | None = None
) -> Callable[[], Awaitable[Any]] | None:
    """The scheduler's every-minute job sending due SMS tasks; None while SMS is off (the
    tasks stay open instead of being closed with nothing sent)."""
    if settings.sms.driver == "none":
        return None
    policy = policy_of(settings.sms)
    return lambda: send_due_sms_tasks(clock, policy, hub=hub)
