"""How fast `centralita demo-data` fills a database: rows per second on SQLite and PostgreSQL.

    python bench/bench_demo_data.py                       # 1,000,000 clients, both databases
    python bench/bench_demo_data.py --clients 200000 --backend sqlite
    python bench/bench_demo_data.py --backend postgres --keep centralita_bench_1m

Each run loads into a private database (a temporary SQLite file; a `centralita_bench_...`
PostgreSQL database created and dropped on the server at --pg-url). The comparison limit
printed with it is the generator alone (no database), to show how much of the time is
Python building rows and how much is the database storing them. Target: 50,000 rows/s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEFAULT_PG, private_database, run_each_backend  # noqa: E402
from daemon.demo import DemoCounts, load_demo_data  # noqa: E402
from daemon.demo.context import Agent, DemoContext  # noqa: E402
from daemon.demo.loader import _specs  # noqa: E402
from daemon.demo.people import client_batch  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402

TARGET = 50_000


async def generator_rate(clients: int) -> float:
    """Rows per second of building clients with phones, emails, tags and words, no database."""
    now = 1_795_000_000
    await open_db("sqlite://:memory:")  # the models' metadata only
    await close_db()
    ctx = DemoContext(
        rng=random.Random(1),
        now=now,
        agents=[Agent(1, "100", "Ana"), Agent(2, "101", "Luis")],
        default_currency="EUR",
        extra_currencies=["USD"],
        source_tags=[(1, "+34910000100")],
        tag_ids=[1, 2, 3],
        company_did="+34910000100",
        specs=_specs(datetime.fromtimestamp(now, UTC)),
        next_ids={t: 1 for t in ("client", "phone", "email")},
    )
    started = time.perf_counter()
    rows = 0
    for _ in range(0, clients, 20_000):
        rows += sum(len(r) for _, r in client_batch(ctx, 20_000))
    return rows / (time.perf_counter() - started)


async def run_one(backend: str, args: argparse.Namespace) -> None:
    counts = DemoCounts(
        clients=args.clients,
        deals=args.deals,
        calls=args.calls,
        leads=args.leads,
        tasks=args.tasks,
        notes=args.notes,
    )
    keep = args.keep if backend == "postgres" else args.keep_sqlite
    async with private_database(backend, args.pg_url, keep) as url:
        await open_db(url)
        try:
            last = [time.perf_counter()]

            def progress(label: str, done: int, total: int) -> None:
                if label == "indexes" and not done:
                    return
                if done == total:
                    now = time.perf_counter()
                    what = "rebuilt" if label == "indexes" else f"{total:>10,}"
                    print(f"    {label:<8} {what:>10}  {now - last[0]:6.1f} s", flush=True)
                    last[0] = now

            print(f"{backend}: demo-data --clients {args.clients:,} ({url})", flush=True)
            report = await load_demo_data(counts, seed=args.seed, progress=progress)
        finally:
            await close_db()
    print(f"    (then sequences and ANALYZE; setup included) {report.seconds:.1f} s in all")
    for table, rows in sorted(report.rows.items()):
        print(f"    {table:<16} {rows:>12,}")
    phones = report.rows.get("phone", 0)
    verdict = "meets" if report.rows_per_second >= TARGET else "BELOW"
    print(
        f"  {backend}: {report.total_rows:,} rows ({args.clients:,} clients, {phones:,} phones) "
        f"in {report.seconds:.1f} s = {report.rows_per_second:,.0f} rows/s "
        f"({verdict} the {TARGET:,} rows/s target)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--deals", type=int)
    parser.add_argument("--calls", type=int)
    parser.add_argument("--leads", type=int)
    parser.add_argument("--tasks", type=int)
    parser.add_argument("--notes", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="server to create the database on")
    parser.add_argument("--keep", help="PostgreSQL database name to create and keep")
    parser.add_argument("--keep-sqlite", help="SQLite file to create and keep")
    args = parser.parse_args()
    sample = min(args.clients, 100_000)
    # One process per measure: Tortoise keeps per-dialect state in its model classes.
    spawn = multiprocessing.get_context("spawn")
    job = spawn.Process(target=_generator_child, args=(sample,))
    job.start()
    job.join()
    run_each_backend(_backend_child, args)


def _generator_child(sample: int) -> None:
    rate = asyncio.run(generator_rate(sample))
    print(f"generator alone: {rate:,.0f} rows/s over {sample:,} clients (no database)", flush=True)


def _backend_child(backend: str, args: argparse.Namespace) -> None:
    asyncio.run(run_one(backend, args))


if __name__ == "__main__":
    main()
