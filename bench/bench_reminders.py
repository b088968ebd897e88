"""Task reminders (T3): the cost of the scheduler's minute and of a page's connect.

A database with `--users` agents and `--tasks` open tasks spread over the next 30 days (each
assignee's default lead time; a tenth with their own, up to three days). Prints the time of
one `announce_due_reminders` run (the panel's job, every minute) when nothing is due and when
a batch is, of the Telegram rule's `reminders_due` run, and of `recent_reminders` (what each
page's websocket asks for on connect), as median and worst of `--runs`.

    python bench/bench_reminders.py [--tasks 20000] [--users 50] [--backend postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import DEFAULT_PG, bench_company, private_database  # noqa: E402

from models.core.clock import FixedClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.hub import Hub  # noqa: E402
from models.people.users import create_user  # noqa: E402
from models.schema.tasks import Task  # noqa: E402
from models.work.reminders import (  # noqa: E402
    announce_due_reminders,
    recent_reminders,
    reminders_due,
)

START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


async def timed(runs: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), max(times)


async def fill(users: int, tasks: int) -> list[Any]:
    await bench_company()
    agents = [await create_user(f"agent{i}", "bench-pass-1") for i in range(users)]
    rnd = random.Random(7)
    rows = [
        Task(
            title=f"Task {i}",
            due_at=START + timedelta(minutes=rnd.randrange(1, 30 * 24 * 60)),
            remind_minutes_before=rnd.choice([5, 60, 24 * 60, 3 * 24 * 60])
            if i % 10 == 0
            else None,
        )
        for i in range(tasks)
    ]
    await Task.bulk_create(rows, batch_size=1000)
    ids = await Task.all().order_by("id").values_list("id", flat=True)
    conn = Task._meta.db
    values = [(task_id, agents[n % users].id) for n, task_id in enumerate(ids)]
    for chunk in range(0, len(values), 1000):
        part = values[chunk : chunk + 1000]
        if conn.capabilities.dialect == "postgres":
            marks = ", ".join(f"(${2 * k + 1}, ${2 * k + 2})" for k in range(len(part)))
        else:
            marks = ", ".join(["(?, ?)"] * len(part))
        flat = [v for pair in part for v in pair]
        await conn.execute_query(
            f"INSERT INTO task_assignee (task_id, user_id) VALUES {marks}", flat
        )
    return agents


async def run(backend: str, pg_url: str, users: int, tasks: int, runs: int) -> None:
    async with private_database(backend, pg_url, None) as url:
        await open_db(url)
        try:
            agents = await fill(users, tasks)
            clock = FixedClock(START)
            hub = Hub()
            first = await announce_due_reminders(clock, hub)  # what came due at the start
            idle = await timed(runs, lambda: announce_due_reminders(clock, hub))
            telegram = await timed(runs, lambda: reminders_due(clock))
            batches = []
            for _ in range(runs):  # each minute later brings that minute's reminders
                clock.set(clock.now() + timedelta(minutes=1))
                began = time.perf_counter()
                batches.append(
                    (await announce_due_reminders(clock, hub), (time.perf_counter() - began) * 1000)
                )
            replay = await timed(runs, lambda: recent_reminders(agents[0], clock))
            await hub.close()
        finally:
            await close_db()
    busy = [ms for _n, ms in batches]
    print(f"{backend}: {tasks} open tasks, {users} agents; {first} due at the start")
    print(f"  panel job, nothing new:      median {idle[0]:.1f} ms, worst {idle[1]:.1f} ms")
    print(f"  telegram rule (due list):    median {telegram[0]:.1f} ms, worst {telegram[1]:.1f} ms")
    print(
        f"  panel job, one minute later: median {statistics.median(busy):.1f} ms, worst "
        f"{max(busy):.1f} ms, {sum(n for n, _ in batches)} announced in {runs} minutes"
    )
    print(f"  page connect replay:         median {replay[0]:.1f} ms, worst {replay[1]:.1f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    await run(args.backend, args.pg_url, args.users, args.tasks, args.runs)


if __name__ == "__main__":
    asyncio.run(main())
