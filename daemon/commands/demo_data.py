"""centralita demo-data: fill the database with realistic clients, leads, deals, tasks, calls."""

from __future__ import annotations

import argparse
import sys

from daemon.commands._db import with_db
from daemon.demo import DemoCounts, DemoReport, load_demo_data
from models.core.settings import Settings

_EPILOG = """\
Counts not given are proportional to --clients: leads N/10, deals N/5, tasks N/10,
calls N, notes N/5. Data is spread over the active users; when there are fewer than
four, demo agents are created and their passwords printed once. Clients get Spanish and
international phones (1.5 per client on average) stored as the CRM stores them.

Loads are written in one transaction: they land entirely or not at all. A load bigger
than the clients already there rebuilds the indexes once at the end instead of updating
them row by row, so run it while the product is stopped.

examples:
  centralita demo-data --clients 200
  centralita demo-data --clients 1000000 --deals 200000 --calls 2000000 --seed 7
"""


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo-data",
        help="generate realistic demo data (bulk path fast enough for a million clients)",
        description="Generate realistic demo data: clients with phones, emails and tags, "
        "leads, deals with their history, tasks, calls and notes, with timeline entries.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--clients", type=_count, required=True, metavar="N", help="clients to create")
    p.add_argument("--leads", type=_count, metavar="N", help="leads (default N/10)")
    p.add_argument("--deals", type=_count, metavar="N", help="deals (default N/5)")
    p.add_argument("--tasks", type=_count, metavar="N", help="tasks (default N/10)")
    p.add_argument("--calls", type=_count, metavar="N", help="calls (default N)")
    p.add_argument("--notes", type=_count, metavar="N", help="notes (default N/5)")
    p.add_argument(
        "--seed",
        type=int,
        default=1,
        metavar="S",
        help="random seed: the same seed on the same database gives the same data (default 1)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def _progress(label: str, done: int, total: int) -> None:
    if label == "indexes":
        if not done:
            print("rebuilding indexes...", file=sys.stderr, flush=True)
    elif done == total or done % 200_000 == 0:
        print(f"{label}: {done:,}/{total:,}", file=sys.stderr, flush=True)


def _print_report(report: DemoReport) -> None:
    for table, rows in sorted(report.rows.items()):
        print(f"  {table:<16} {rows:>12,}")
    print(
        f"{report.total_rows:,} rows in {report.seconds:.1f} s "
        f"({report.rows_per_second:,.0f} rows/s); deal currencies: {', '.join(report.currencies)}"
    )
    for username, password in report.created_agents:
        print(f"demo agent {username} created with password {password}")


def run(args: argparse.Namespace, settings: Settings) -> int:
    counts = DemoCounts(
        clients=args.clients,
        leads=args.leads,
        deals=args.deals,
        tasks=args.tasks,
        calls=args.calls,
        notes=args.notes,
    )
    problems = counts.problems()
    if problems:
        for field, message in problems.items():
            print(f"centralita demo-data: --{field}: expected {message}", file=sys.stderr)
        return 2

    async def work() -> DemoReport:
        return await load_demo_data(
            counts, seed=args.seed, progress=None if args.quiet else _progress
        )

    _print_report(with_db(settings, work))
    return 0
