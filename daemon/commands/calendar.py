"""centralita calendar sync [USER]: sync Google Calendars once, now (K2), and say what
changed on each side."""

from __future__ import annotations

import argparse
import sys

from daemon.commands._db import with_db
from daemon.google_calendar.api import api_factory
from daemon.google_calendar.runner import CalendarSyncRunner
from models.core.clock import SystemClock
from models.core.hub import Hub
from models.core.secret_box import secret_box_for
from models.core.settings import Settings
from models.people import users as user_ops
from models.schema.calendar_sync import GoogleCalendarLink
from models.schema.users import User
from models.work.calendar_sync import SyncReport


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calendar", help="Google Calendar: sync now")
    s = p.add_subparsers(dest="calendar_command", metavar="ACTION")
    s.required = True
    sync = s.add_parser("sync", help="sync connected Google Calendars once, now")
    sync.add_argument("username", nargs="?", help="only this user's calendar")
    sync.set_defaults(func=_sync)


def _fail(message: str) -> int:
    print(f"centralita calendar: {message}", file=sys.stderr)
    return 2


def describe(report: SyncReport) -> str:
    return (
        f"in the CRM {report.crm_created} created, {report.crm_updated} updated, "
        f"{report.crm_deleted} deleted; in Google {report.google_created} created, "
        f"{report.google_updated} updated, {report.google_deleted} deleted "
        f"({report.api_calls} API calls{', full read' if report.full_read else ''})"
    )


def _sync(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.google.is_configured:
        return _fail("[google] client_id and client_secret are not set in the configuration")

    async def work() -> int:
        user_id = None
        if args.username:
            user = await user_ops.find_user(args.username)
            if user is None:
                return _fail(f"no user named {args.username!r}")
            user_id = user.id
        query = GoogleCalendarLink.all()
        if user_id is not None:
            query = query.filter(user_id=user_id)
        links = await query.order_by("id")
        if not links:
            print("no connected Google Calendar")
            return 0
        box = secret_box_for(settings.security.encryption_key.get_secret_value(), settings.data_dir)
        hub = Hub()
        runner = CalendarSyncRunner(settings, box, SystemClock(), hub, api_factory(settings.google))
        failed = 0
        try:
            for link in links:
                user = await User.get(id=link.user_id)
                name = f"{user.username} ({link.calendar_name or link.google_email})"
                if not link.calendar_id:
                    print(f"{name}: no calendar chosen yet (Settings -> Google Calendar)")
                    continue
                if link.needs_reconnect:
                    print(
                        f"{name}: Google refused the connection: connect it again", file=sys.stderr
                    )
                    failed += 1
                    continue
                result = await runner.sync_link(link, force_pull=True)
                if isinstance(result, SyncReport):
                    print(f"{name}: {describe(result)}")
                else:
                    failed += 1
                    print(f"{name}: failed: {result}", file=sys.stderr)
        finally:
            await hub.close()
        return 1 if failed else 0

    return with_db(settings, work)
