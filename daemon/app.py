"""The composition root: build every part with its dependencies and run them in one loop."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.reminders import send_daily_digests, send_due_reminders
from daemon.commands._db import ensure_data_dir
from daemon.messaging import build_messaging, mount_bot_webhook, start_messaging
from daemon.outreach import sms_task_job, start_outreach
from daemon.scheduler import Scheduler
from daemon.signals import stop_event
from daemon.supervisor import Supervisor
from models.core.clock import Clock, SystemClock
from models.core.db import close_db, open_db
from models.core.hub import Hub
from models.core.settings import Settings
from models.messaging.outbox import purge_finished
from models.messaging.telegram_links import purge_link_guesses
from web.app import create_app

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything `centralita run` started, for tests and for shutdown."""

    settings: Settings
    hub: Hub
    clock: Clock
    supervisor: Supervisor
    web_runner: web.AppRunner | None = None
    web_port: int = 0
    pbx_port: int = 0
    closers: list = field(default_factory=list)
    telephony: Any = None
    messaging: Any = None
    scheduler: Any = None
    dialer: Any = None
    owns_database: bool = True

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
    """Open the database, start the PBX link (or simulator), the web panel, the bot."""
    ensure_data_dir(settings)
    applied = await open_db(settings.database.url) if open_database else []
    if applied:
        logger.info("database migrated: %s", ", ".join(applied))
    rt = Runtime(
        settings=settings,
        hub=Hub(),
        clock=clock or SystemClock(),
        supervisor=Supervisor(),
        owns_database=open_database,
    )
    try:
        from daemon.telephony import start_telephony

        telephony = await start_telephony(
            settings, rt.hub, rt.clock, simulator_speed=simulator_speed
        )
        rt.closers.extend(telephony.closers)
        rt.telephony = telephony
        if telephony.simulator is not None:
            rt.pbx_port = telephony.simulator.port
        messaging = build_messaging(settings, rt.hub, rt.clock)
        rt.messaging = messaging
        # Auto-dialer and SMS (issue 8): the SMS sender joins the worker before it starts.
        rt.dialer, outreach_closers = await start_outreach(
            settings, rt.hub, rt.clock, telephony, messaging.worker
        )
        rt.closers.extend(outreach_closers)
        await _start_web(rt)
        await start_messaging(messaging, settings, rt.hub)
        rt.closers.extend(messaging.closers)
        _start_scheduler(rt)
    except BaseException:
        await stop(rt)
        raise
    return rt


async def _housekeeping(clock: Clock) -> None:
    """Forget what is done: sent outbox rows after a week, old failed link guesses."""
    await purge_finished(clock=clock, older_than=timedelta(days=7))
    await purge_link_guesses(clock=clock)


def _start_scheduler(rt: Runtime) -> None:
    clock, outbox = rt.clock, rt.messaging.telegram_outbox
    scheduler = Scheduler()
    scheduler.every("task-reminders", 60, lambda: send_due_reminders(clock, outbox))
    scheduler.every("daily-digests", 60, lambda: send_daily_digests(clock, outbox))
    scheduler.every("housekeeping", 3600, lambda: _housekeeping(clock))
    sms_tasks = sms_task_job(rt.settings, clock)
    if sms_tasks is not None:
        scheduler.every("sms-tasks", 60, sms_tasks)
    scheduler.start()
    rt.closers.append(scheduler.stop)
    rt.scheduler = scheduler


async def _start_web(rt: Runtime) -> None:
    app = create_app(rt.settings, hub=rt.hub, clock=rt.clock)
    mount_bot_webhook(rt.messaging, rt.settings, app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, rt.settings.web.host, rt.settings.web.port)
    await site.start()
    rt.web_runner = runner
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    rt.web_port = sockets[0].getsockname()[1] if sockets else rt.settings.web.port
    logger.info("web panel on %s", rt.web_url)


async def stop(rt: Runtime) -> None:
    """Stop in reverse order of start: background tasks, web, adapters, hub, database."""
    await rt.supervisor.stop()
    if rt.web_runner is not None:
        await rt.web_runner.cleanup()
    for closer in reversed(rt.closers):
        try:
            await closer()
        except Exception:
            logger.exception("error while stopping %r", closer)
    await rt.hub.close()
    if rt.owns_database:
        await close_db()


async def run_forever(settings: Settings) -> None:
    rt = await start(settings)
    stopping = stop_event()
    print(f"Centralita CRM is running: {rt.web_url}  (Ctrl+C to stop)", flush=True)
    try:
        await stopping.wait()
    finally:
        logger.info("stopping")
        await stop(rt)
