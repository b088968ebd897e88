"""The composition root: build every part with its dependencies and run them in one loop."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta

from aiohttp import web

from bot.reminders import send_daily_digests, send_due_reminders
from daemon import heap
from daemon.commands._db import ensure_data_dir
from daemon.dialer import DialerRunner
from daemon.doctor.monitor import PbxDoctor, start_doctor
from daemon.google_calendar.api import api_factory
from daemon.google_calendar.oauth import GoogleOAuth
from daemon.google_calendar.runner import CalendarSyncRunner
from daemon.mail_probe import probe as mail_probe
from daemon.mail_sync import MailSyncRunner
from daemon.messaging import Messaging, build_messaging, mount_bot_webhook, start_messaging
from daemon.outreach import sms_task_job, start_outreach
from daemon.scheduler import Scheduler
from daemon.signals import stop_event
from daemon.supervisor import Supervisor
from daemon.telephony import Telephony, start_telephony
from daemon.transcription import TranscriptionWorker, start_transcription
from models.core.clock import Clock, SystemClock
from models.core.db import close_db, open_db
from models.core.hub import Hub
from models.core.planner_stats import refresh_planner_statistics
from models.core.secret_box import SecretBox, secret_box_for
from models.core.settings import Settings
from models.messaging import webhooks
from models.messaging.outbox import purge_finished
from models.messaging.telegram_links import purge_link_guesses
from models.people import login_throttle, sessions
from models.work.reminders import announce_due_reminders
from web.app import create_app
from web.services import WebServices

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything `centralita run` started. `stack` owns it all: each part joined it as it
    started, and closing it stops them in reverse order (`stop`)."""

    settings: Settings
    clock: Clock
    hub: Hub
    supervisor: Supervisor
    telephony: Telephony
    messaging: Messaging
    dialer: DialerRunner
    web_port: int
    scheduler: Scheduler
    mail_sync: MailSyncRunner
    stack: AsyncExitStack = field(repr=False)
    calendar_sync: CalendarSyncRunner | None = None  # with [google] set up
    transcription: TranscriptionWorker | None = None  # with a [transcription] engine

    @property
    def web_url(self) -> str:
        return f"http://{self.settings.web.host}:{self.web_port}"


async def start(
    settings: Settings,
    *,
    clock: Clock | None = None,
    simulator_speed: float = 1.0,
    open_database: bool = True,
) -> Runtime:
    """Open the database, start the PBX link (or simulator), the web panel, the bot.

    A part that fails to start stops the parts started before it, in reverse order.
    """
    ensure_data_dir(settings)
    stack = AsyncExitStack()
    try:
        return await _start_parts(
            stack, settings, clock or SystemClock(), simulator_speed, open_database
        )
    except BaseException:
        await stack.aclose()
        raise


async def _start_parts(
    stack: AsyncExitStack,
    settings: Settings,
    clock: Clock,
    simulator_speed: float,
    open_database: bool,
) -> Runtime:
    if open_database:
        applied = await open_db(
            settings.database.url, busy_timeout=settings.database.busy_timeout_seconds
        )
        stack.push_async_callback(close_db)
        if applied:
            logger.info("database migrated: %s", ", ".join(applied))
    hub = Hub()
    stack.push_async_callback(hub.close)  # the hub's consumer tasks: cancelled and awaited
    supervisor = Supervisor()
    stack.push_async_callback(supervisor.stop)
    telephony = await start_telephony(stack, settings, hub, clock, simulator_speed=simulator_speed)
    doctor = await start_doctor(stack, settings, clock, telephony)
    # One key opens the mailbox passwords for the panel, the mail sender and the mail sync.
    box = secret_box_for(settings.security.encryption_key.get_secret_value(), settings.data_dir)
    messaging = build_messaging(
        settings, hub, clock, supervisor, telephony.calls.directory, box=box
    )
    # Auto-dialer and SMS (issue 8): the SMS sender joins the worker before it starts.
    dialer = await start_outreach(
        stack, settings, hub, clock, telephony, messaging.worker, supervisor
    )
    web_port = await _start_web(stack, settings, hub, clock, telephony, messaging, doctor, box)
    await start_messaging(stack, messaging, settings, hub)
    scheduler = _start_scheduler(stack, settings, clock, hub, messaging)
    # Users' mailboxes (issue 16): stopped before the scheduler, the web panel and the database.
    mail_sync = MailSyncRunner(settings, box, clock, hub, supervisor, scheduler)
    await mail_sync.start()
    stack.push_async_callback(mail_sync.stop)
    # Speech recognition of call recordings (X2), when an engine is configured.
    transcription = await start_transcription(stack, settings, hub, clock)
    # Google Calendar (issue 17), when the installation has its OAuth client.
    calendar_sync = None
    if settings.google.is_configured:
        calendar_sync = CalendarSyncRunner(settings, box, clock, hub, api_factory(settings.google))
        await calendar_sync.start(scheduler)
        stack.push_async_callback(calendar_sync.stop)
    return Runtime(
        settings=settings,
        clock=clock,
        hub=hub,
        supervisor=supervisor,
        telephony=telephony,
        messaging=messaging,
        dialer=dialer,
        web_port=web_port,
        scheduler=scheduler,
        mail_sync=mail_sync,
        stack=stack,
        calendar_sync=calendar_sync,
        transcription=transcription,
    )


async def _housekeeping(clock: Clock) -> None:
    """Forget what is done: sent outbox rows after a week, webhook deliveries after a month,
    old failed link guesses, expired login sessions and quiet login-throttle counters; keep
    SQLite's planner statistics fresh
    (sorted lists walk their column's index only when the planner knows the tables)."""
    await purge_finished(clock=clock, older_than=timedelta(days=7))
    await webhooks.purge_log(clock.now())
    await purge_link_guesses(clock=clock)
    await sessions.purge_expired(clock.now())
    await login_throttle.purge_stale(clock.now(), login_throttle.ThrottlePolicy())
    await refresh_planner_statistics()


def _start_scheduler(
    stack: AsyncExitStack, settings: Settings, clock: Clock, hub: Hub, messaging: Messaging
) -> Scheduler:
    outbox = messaging.telegram_outbox
    scheduler = Scheduler()
    scheduler.every("task-reminders", 60, lambda: send_due_reminders(clock, outbox))
    # The same reminders on the panel's open pages (web/views/live.py), each once.
    scheduler.every("panel-reminders", 60, lambda: announce_due_reminders(clock, hub))
    scheduler.every("daily-digests", 60, lambda: send_daily_digests(clock, outbox))
    scheduler.every("housekeeping", 3600, lambda: _housekeeping(clock))
    sms_tasks = sms_task_job(settings, clock, hub)
    if sms_tasks is not None:
        scheduler.every("sms-tasks", 60, sms_tasks)
    scheduler.start()
    stack.push_async_callback(scheduler.stop)
    return scheduler


async def _start_web(
    stack: AsyncExitStack,
    settings: Settings,
    hub: Hub,
    clock: Clock,
    telephony: Telephony | None,
    messaging: Messaging,
    doctor: PbxDoctor | None,
    box: SecretBox,
    role: Callable[[], str] | None = None,
) -> int:
    """Serve the panel; returns the port it listens on (the one asked for, or a free one)."""
    # The panel shares the call path's caller directory: one extension directory, one set of
    # per-number locks (an agent saving a caller vs. the call being stored).
    services = WebServices(
        callers=telephony.calls.directory if telephony is not None else None,
        pbx_health=doctor,
        secret_box=box,
        mail_probe=mail_probe,
        role=role,
    )
    if settings.google.is_configured:
        services.google_auth = GoogleOAuth(settings.google)
        services.google_api = api_factory(settings.google)
    app = create_app(settings, hub=hub, clock=clock, services=services)
    mount_bot_webhook(messaging, settings, app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    # The app's cleanup contexts (live relay, import runner) run in runner.cleanup.
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, settings.web.host, settings.web.port)
    await site.start()
    addresses = runner.addresses
    port = int(addresses[0][1]) if addresses else settings.web.port
    logger.info("web panel on http://%s:%d", settings.web.host, port)
    return port


async def stop(rt: Runtime) -> None:
    """Stop in reverse order of start: scheduler, bot, web, dialer, PBX link and calls, the
    supervised loops, the hub's consumers, the database. Every part is stopped even when one
    fails to; the failure is logged."""
    try:
        await rt.stack.aclose()
    except Exception:
        logger.exception("error while stopping")


async def run_forever(settings: Settings) -> None:
    if settings.cluster.enabled:
        from daemon.cluster.instance import run_instance_forever

        await run_instance_forever(settings)
        return
    rt = await start(settings)
    heap.settle()
    stopping = stop_event()
    print(f"Centralita CRM is running: {rt.web_url}  (Ctrl+C to stop)", flush=True)
    try:
        await stopping.wait()
    finally:
        logger.info("stopping")
        await stop(rt)
