"""Google Calendar two-way sync benchmark (issue 17, K2): N tasks to Google, N events to the
CRM, and a sync with nothing new, against the local Google of the tests (tests/fakes), with
the real google-api-python-client and the real database.

Prints, for each direction, the time and the Calendar API calls the sync made, and, for a
ratio measured in the same run, the same API work done bare through the same adapter (no
database, no sync rules): N inserts, and one read of N events. Then the calls of a sync with
nothing new, for one calendar and for CALENDARS calendars (target: one call per calendar).
Exits 1 when a target is missed (a count, not a time).

    python bench/calendar_sync.py [--tasks 1000] [--backend postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import DEFAULT_PG, bench_company, private_database  # noqa: E402

from daemon.google_calendar.api import GoogleCalendarApi  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.people.users import create_user  # noqa: E402
from models.schema.calendar_sync import GoogleCalendarLink  # noqa: E402
from models.schema.tasks import Task  # noqa: E402
from models.work import google_calendar as connections  # noqa: E402
from models.work.calendar_sync import SyncReport  # noqa: E402
from tests.daemon.calendar_world import BOX, google_settings, runner_for  # noqa: E402
from tests.fakes.google_calendar import FakeGoogle  # noqa: E402

CALENDARS = 5


async def connect(google: FakeGoogle, username: str, *, extension: str):
    email = f"{username}@bench.example"
    user = await create_user(username, "bench-pass-1", extension=extension, email=email)
    google.add_account(email)
    link = await connections.save_connection(
        user, google.issue_refresh_token(email), box=BOX, google_email=email
    )
    await connections.choose_calendar(
        link, email, email, push_to_google=True, pull_from_google=True, known_ids=[email]
    )
    return user, email


async def timed_sync(runner, user_id: int) -> tuple[SyncReport, float]:
    link = await GoogleCalendarLink.get(user_id=user_id)
    started = time.perf_counter()
    report = await runner.sync_link(link, force_pull=True)
    elapsed = time.perf_counter() - started
    if not isinstance(report, SyncReport):
        raise SystemExit(f"sync failed: {report}")
    return report, elapsed


async def run(args: argparse.Namespace, url: str) -> int:
    await open_db(url)
    await bench_company()
    n = args.tasks
    failed = 0
    async with FakeGoogle() as google:
        from models.core.hub import Hub

        hub = Hub()
        runner = runner_for(google, hub, backoff_seconds=0.5)
        ana, ana_email = await connect(google, "ana", extension="100")
        first = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        tasks = await Task.bulk_create(
            [
                Task(title=f"Tarea {i}", due_at=first + timedelta(minutes=30 * i), author_id=ana.id)
                for i in range(n)
            ]
        )
        ids = await Task.filter(author_id=ana.id).values_list("id", flat=True)
        for task in await Task.filter(id__in=ids):
            await task.assignees.add(ana)
        del tasks
        await timed_sync(runner, ana.id)  # reads the empty calendar (one call) and writes all
        google.api_calls.clear()

        # CRM -> Google was the first sync; measure a second user's the same way.
        luis, luis_email = await connect(google, "luis", extension="101")
        for task in await Task.filter(id__in=ids):
            await task.assignees.add(luis)
        push, push_s = await timed_sync(runner, luis.id)
        bare = GoogleCalendarApi(google_settings(google), google.issue_refresh_token(luis_email))
        google.add_account("bare@bench.example")
        bare = GoogleCalendarApi(
            google_settings(google), google.issue_refresh_token("bare@bench.example")
        )
        started = time.perf_counter()
        for i in range(n):
            when = first + timedelta(minutes=30 * i)
            await bare.insert_event(
                "bare@bench.example",
                {
                    "summary": f"Tarea {i}",
                    "start": {"dateTime": when.isoformat()},
                    "end": {"dateTime": (when + timedelta(minutes=30)).isoformat()},
                },
            )
        bare_push_s = time.perf_counter() - started

        # Google -> CRM: N events made in Google by a third user.
        marta, marta_email = await connect(google, "marta", extension="102")
        for i in range(n):
            when = first + timedelta(days=2, minutes=30 * i)
            google.insert_event(
                marta_email,
                marta_email,
                {
                    "summary": f"Evento {i}",
                    "start": {"dateTime": when.isoformat()},
                    "end": {"dateTime": (when + timedelta(minutes=45)).isoformat()},
                },
            )
        pull, pull_s = await timed_sync(runner, marta.id)
        reader = GoogleCalendarApi(google_settings(google), google.issue_refresh_token(marta_email))
        started = time.perf_counter()
        changes = await reader.list_changes(marta_email, None)
        bare_pull_s = time.perf_counter() - started

        # Nothing new: one calendar, then CALENDARS at once.
        quiet, quiet_s = await timed_sync(runner, ana.id)
        for k in range(CALENDARS - 3):
            await connect(google, f"agent{k}", extension=str(200 + k))
        for link in await GoogleCalendarLink.all():
            await runner.sync_link(link, force_pull=True)  # first reads
        google.api_calls.clear()
        started = time.perf_counter()
        results = await runner.sync_due(force_pull=True)
        many_s = time.perf_counter() - started
        many_calls = len(google.api_calls)
        await hub.close()

    print(f"{n} tasks, {args.backend}")
    print(
        f"  CRM -> Google: {push.google_created} events in {push_s:.2f} s "
        f"({push.google_created / push_s:.0f}/s), {push.api_calls} API calls; "
        f"bare inserts {bare_push_s:.2f} s, ratio {push_s / bare_push_s:.1f}x"
    )
    print(
        f"  Google -> CRM: {pull.crm_created} tasks in {pull_s:.2f} s "
        f"({pull.crm_created / pull_s:.0f}/s), {pull.api_calls} API call(s); "
        f"bare read of {len(changes.events)} events {bare_pull_s:.2f} s, "
        f"ratio {pull_s / bare_pull_s:.1f}x"
    )
    print(
        f"  nothing new: {quiet.api_calls} API call(s) for 1 calendar in {quiet_s * 1000:.0f} ms; "
        f"{many_calls} for {len(results)} calendars in {many_s * 1000:.0f} ms "
        f"(target: 1 per calendar)"
    )
    checks = {
        "every task reached Google": push.google_created == n,
        "CRM -> Google made one call per event and one read": push.api_calls == n + 1,
        "every event became a task": pull.crm_created == n,
        "nothing new: one call for one calendar": quiet.api_calls == 1,
        "nothing new: one call per calendar": many_calls == len(results) == CALENDARS,
        "no change reported when nothing is new": quiet.google_updated + quiet.crm_updated == 0,
    }
    for name, ok in checks.items():
        if not ok:
            failed += 1
            print(f"  MISSED: {name}")
    await close_db()
    return 1 if failed else 0


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    async with private_database(args.backend, args.pg_url, None) as url:
        return await run(args, url)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
