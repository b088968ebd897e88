"""One instance of several on one PostgreSQL (X4, `[cluster] enabled`).

Every instance serves the panel, the API and the Telegram webhook, and joins the others'
hubs through PostgreSQL (daemon/cluster/bridge.py): a pop-up published by the leader reaches
a browser on any instance, and a click-to-call made on any instance is carried out once, by
the leader. The leader (daemon/cluster/leadership.py) alone holds the PBX link (it resyncs
the live calls with CoreShowChannels when it connects), the dialer, the scheduler, the
outbox worker, mail and calendar sync and Telegram polling: they start when this instance is
elected and stop when it steps down.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from daemon import heap
from daemon.app import _start_scheduler, _start_web
from daemon.cluster.bridge import HubBridge
from daemon.cluster.leadership import Leadership
from daemon.commands._db import ensure_data_dir
from daemon.doctor.monitor import start_doctor
from daemon.google_calendar.api import api_factory
from daemon.google_calendar.runner import CalendarSyncRunner
from daemon.mail_sync import MailSyncRunner
from daemon.messaging import build_messaging, start_messaging
from daemon.outreach import start_outreach
from daemon.signals import stop_event
from daemon.supervisor import Supervisor
from daemon.telephony import Telephony, start_telephony
from daemon.transcription import start_transcription
from models.core.clock import Clock, SystemClock
from models.core.db import close_db, open_db
from models.core.events import ClickToCall, HangupCall, TransferCall
from models.core.hub import Hub
from models.core.secret_box import SecretBox, secret_box_for
from models.core.settings import Settings

logger = logging.getLogger(__name__)

COMMANDS = (ClickToCall, TransferCall, HangupCall)  # carried out by the leader's PBX link


class LeaderParts:
    """What only the leader runs, started on election and stopped on stepping down."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        hub: Hub,
        supervisor: Supervisor,
        box: SecretBox,
        bridge: HubBridge,
    ) -> None:
        self._settings, self._clock, self._hub = settings, clock, hub
        self._supervisor, self._box, self._bridge = supervisor, box, bridge
        self._stack: AsyncExitStack | None = None
        self.telephony: Telephony | None = None

    async def start(self) -> None:
        settings, clock, hub = self._settings, self._clock, self._hub
        stack = AsyncExitStack()
        try:
            telephony = await start_telephony(stack, settings, hub, clock)
            self.telephony = telephony
            await start_doctor(stack, settings, clock, telephony)
            messaging = build_messaging(
                settings, hub, clock, self._supervisor, telephony.calls.directory, box=self._box
            )
            await start_outreach(
                stack, settings, hub, clock, telephony, messaging.worker, self._supervisor
            )
            await start_messaging(stack, messaging, settings, hub)
            scheduler = _start_scheduler(stack, settings, clock, hub, messaging)
            mail_sync = MailSyncRunner(settings, self._box, clock, hub, self._supervisor, scheduler)
            await mail_sync.start()
            stack.push_async_callback(mail_sync.stop)
            await start_transcription(stack, settings, hub, clock)
            if settings.google.is_configured:
                calendar = CalendarSyncRunner(
                    settings, self._box, clock, hub, api_factory(settings.google)
                )
                await calendar.start(scheduler)
                stack.push_async_callback(calendar.stop)
        except BaseException:
            await stack.aclose()
            self.telephony = None
            raise
        self._stack = stack
        # The PBX link registered the real command handlers: this instance now serves them.
        self._bridge.become_leader({t: self._hub.handler_of(t) for t in COMMANDS})
        heap.settle()  # the leader's parts live as long as its leadership (daemon/heap.py)

    async def stop(self) -> None:
        self._bridge.become_follower()
        stack, self._stack = self._stack, None
        self.telephony = None
        if stack is not None:
            await stack.aclose()


@dataclass
class Instance:
    settings: Settings
    hub: Hub
    web_port: int
    leadership: Leadership
    leader: LeaderParts
    bridge: HubBridge
    stack: AsyncExitStack = field(repr=False)
    instance_id: str = ""

    @property
    def web_url(self) -> str:
        return f"http://{self.settings.web.host}:{self.web_port}"


async def start_instance(settings: Settings, *, clock: Clock | None = None) -> Instance:
    """Open the database, join the other instances and serve the panel; compete for the lead."""
    clock = clock or SystemClock()
    ensure_data_dir(settings)
    stack = AsyncExitStack()
    try:
        applied = await open_db(
            settings.database.url, busy_timeout=settings.database.busy_timeout_seconds
        )
        stack.push_async_callback(close_db)
        if applied:
            logger.info("database migrated: %s", ", ".join(applied))
        hub = Hub()
        stack.push_async_callback(hub.close)
        supervisor = Supervisor()
        stack.push_async_callback(supervisor.stop)
        instance_id = uuid.uuid4().hex
        bridge = HubBridge(hub, settings.database.url, instance_id=instance_id)
        await bridge.start()
        stack.push_async_callback(bridge.stop)
        bridge.forward_commands(*COMMANDS)
        box = secret_box_for(settings.security.encryption_key.get_secret_value(), settings.data_dir)
        # The panel's own messaging: the Telegram webhook's dispatcher on every instance (its
        # messages go through the database outbox, sent by the leader's worker).
        messaging = build_messaging(settings, hub, clock, supervisor, None, box=box)
        leader = LeaderParts(settings, clock, hub, supervisor, box, bridge)
        leadership = Leadership(settings.database.url, leader.start, leader.stop)

        def role() -> str:
            return "leader" if leadership.is_leader else "follower"

        web_port = await _start_web(
            stack, settings, hub, clock, None, messaging, None, box, role=role
        )
        await leadership.start()
        stack.push_async_callback(leadership.stop)  # first: the leader's parts stop first
        return Instance(
            settings=settings,
            hub=hub,
            web_port=web_port,
            leadership=leadership,
            leader=leader,
            bridge=bridge,
            stack=stack,
            instance_id=instance_id,
        )
    except BaseException:
        await stack.aclose()
        raise


async def run_instance_forever(settings: Settings) -> None:
    instance = await start_instance(settings)
    heap.settle()
    stopping = stop_event()
    print(
        f"Centralita CRM is running: {instance.web_url}  (instance {instance.instance_id[:8]}, "
        "one of several; Ctrl+C to stop)",
        flush=True,
    )
    try:
        await stopping.wait()
    finally:
        logger.info("stopping")
        try:
            await instance.stack.aclose()
        except Exception:
            logger.exception("error while stopping")
