"""How long each analytics report (N1-N7) takes at a million clients and two million calls.

    python bench/bench_analytics.py          # 1,000,000 clients, 2,000,000 calls, SQLite
    python bench/bench_analytics.py --backend postgres
    python bench/bench_analytics.py --clients 100000 --calls 200000 --backend both

The database is filled by the demo-data loader (daemon.demo) in a private database, then
every report is run for an admin (everyone's figures) and for an agent (own figures) over
"this month", "last 30 days" and a whole year. The limit printed with them is a bare
`SELECT COUNT(*)` of the calls in the same range: the cost of reading the period's index
entries, under which a report that groups those rows cannot go.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEFAULT_PG, private_database, run_each_backend  # noqa: E402
from daemon.demo import DemoCounts, load_demo_data  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.people.users import create_user  # noqa: E402
from models.reporting import analytics
from models.reporting import team_analytics as analytics_team  # noqa: E402
from models.reporting.periods import resolve_period  # noqa: E402
from models.schema.calls import Call  # noqa: E402
from models.schema.users import User  # noqa: E402


async def _reports(user, period, now) -> list[tuple[str, float]]:
    out = []
    for name, run in (
        ("N1 deals", lambda: analytics.deal_stats(user, period.start, period.end)),
        ("N2 calls", lambda: analytics.call_stats(user, period.start, period.end)),
        ("N3 sources", lambda: analytics.source_stats(user, period.start, period.end)),
        ("N4 leads", lambda: analytics.lead_stats(user, period.start, period.end)),
        ("N5 clients", lambda: analytics.client_growth(user, period.start, period.end)),
        ("N6 tasks", lambda: analytics_team.task_stats(user, period.start, period.end, now)),
        ("N7 team", lambda: analytics_team.team_stats(user, period.start, period.end, now)),
    ):
        started = time.perf_counter()
        await run()
        out.append((name, time.perf_counter() - started))
    return out


async def run_one(backend: str, args: argparse.Namespace) -> None:
    counts = DemoCounts(clients=args.clients, calls=args.calls)
    async with private_database(backend, args.pg_url, None) as url:
        await open_db(url)
        try:
            started = time.perf_counter()
            report = await load_demo_data(counts, seed=1)
            print(
                f"{backend}: loaded {report.total_rows:,} rows "
                f"({report.rows.get('client', 0):,} clients, {report.rows.get('call', 0):,} calls) "
                f"in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            admin = await User.filter(group__name="Admin").first().prefetch_related("group")
            if admin is None:
                admin = await create_user("bench_admin", "long-password-1", group_name="Admin")
                await admin.fetch_related("group")
            agent = await User.filter(group__name="Agent").first().prefetch_related("group")
            now = (
                await Call.all()
                .order_by("-started_at")
                .first()
                .values_list("started_at", flat=True)
            )
            ranges = [
                resolve_period(admin, now, "month"),
                resolve_period(admin, now, "30days"),
                resolve_period(
                    admin,
                    now,
                    "custom",
                    f"{now.year - 1}-{now.month:02d}-01",
                    now.date().isoformat(),
                ),
            ]
            for period in ranges:
                started = time.perf_counter()
                n = await Call.filter(
                    started_at__gte=period.start, started_at__lt=period.end
                ).count()
                limit = time.perf_counter() - started
                label = f"{period.first_day}..{period.last_day}"
                print(f"  {label}: {n:,} calls; limit COUNT(*) of them {limit * 1000:,.0f} ms")
                for who, user in (("admin", admin), ("agent", agent)):
                    if user is None:
                        continue
                    figures = await _reports(user, period, now)
                    total = sum(s for _, s in figures)
                    cells = "  ".join(f"{name} {s * 1000:,.0f}" for name, s in figures)
                    print(
                        f"    {who}: {cells} ms; all seven {total * 1000:,.0f} ms "
                        f"({total / limit if limit else 0:.1f}x the limit)",
                        flush=True,
                    )
        finally:
            await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=2_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="server to create the database on")
    run_each_backend(_backend_child, parser.parse_args())


def _backend_child(backend: str, args: argparse.Namespace) -> None:
    asyncio.run(run_one(backend, args))


if __name__ == "__main__":
    main()
