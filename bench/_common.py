"""Helpers shared by the benchmarks: private or kept databases, demo data, percentiles."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/test"


def dsn(url: str) -> str:
    """asyncpg wants postgresql://; Tortoise takes postgres://."""
    return url.replace("postgres://", "postgresql://", 1)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@asynccontextmanager
async def private_database(backend: str, pg_url: str, keep: str | None) -> AsyncIterator[str]:
    """A fresh database URL: a temporary SQLite file or a `centralita_bench_...` PostgreSQL
    database, removed afterwards unless `keep` names it (a path or a database name)."""
    if backend == "sqlite":
        if keep:
            _remove_sqlite(Path(keep))
            yield f"sqlite://{keep}"
            return
        with tempfile.TemporaryDirectory(prefix="centralita_bench_") as tmp:
            yield f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
        return
    name = keep or f"centralita_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(dsn(pg_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"{pg_url.rsplit('/', 1)[0]}/{name}"
    finally:
        if not keep:
            admin = await asyncpg.connect(dsn(pg_url))
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """--backend, --pg-url, and --pg-db / --sqlite / --reuse to keep or reuse a database."""
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="server holding the databases")
    parser.add_argument("--pg-db", help="PostgreSQL database to create and keep (or --reuse)")
    parser.add_argument("--sqlite", help="SQLite file to create and keep (or --reuse)")
    parser.add_argument("--reuse", action="store_true", help="use the database as it is")


@asynccontextmanager
async def bench_database(backend: str, args: argparse.Namespace) -> AsyncIterator[str]:
    """The database a benchmark runs on: the one --pg-db / --sqlite names as it is (--reuse),
    or a private one, kept afterwards when named."""
    keep = args.pg_db if backend == "postgres" else args.sqlite
    if not args.reuse:
        async with private_database(backend, args.pg_url, keep) as url:
            yield url
        return
    if not keep:
        raise SystemExit("--reuse needs --pg-db or --sqlite")
    yield f"{args.pg_url.rsplit('/', 1)[0]}/{keep}" if backend == "postgres" else f"sqlite://{keep}"


async def top_up_demo_data(backend: str, clients: int, **counts: int | None) -> None:
    """demo-data until the open database holds `clients` clients (a reused one may already)."""
    from daemon.demo import DemoCounts, load_demo_data
    from models.schema.clients import Client

    have = await Client.all().count()
    if have >= clients:
        return
    print(f"{backend}: loading demo-data --clients {clients:,} ...", flush=True)
    report = await load_demo_data(DemoCounts(clients=clients - have, **counts), seed=1)
    print(f"  loaded {report.total_rows:,} rows in {report.seconds:.0f} s", flush=True)


async def bench_company() -> dict:
    """The standard permission groups, a company (EUR, Spain) and its telephony settings: what
    every bench database needs before its users. Returns the groups by name."""
    from models.people import users as user_ops
    from models.schema.company import Company, TelephonySettings

    groups = await user_ops.ensure_standard_groups()
    await Company.create(name="Bench", default_currency="EUR", default_region="ES")
    await TelephonySettings.create()
    return groups


async def seed_agents(count: int, first_extension: int, password: str = "bench-password-1"):
    """A company with telephony settings and `count` agents, extensions from
    `first_extension`, usernames agent<extension>, ordered by id.

    One real password hash shared by all: argon2 per user would dominate the set-up.
    """
    from models.people import users as user_ops
    from models.schema.users import User

    groups = await bench_company()
    hashed = user_ops.hash_password(password)
    extensions = range(first_extension, first_extension + count)
    await User.bulk_create(
        [
            User(
                username=f"agent{ext}",
                extension=str(ext),
                password_hash=hashed,
                group=groups["Agent"],
            )
            for ext in extensions
        ]
    )
    return list(await User.filter(extension__in=[str(e) for e in extensions]).order_by("id"))


def run_each_backend(child: Callable[[str, argparse.Namespace], None], args) -> None:
    """`child(backend, args)` in a fresh process per database of --backend.

    One process per database: Tortoise keeps per-dialect state in its model classes.
    """
    spawn = multiprocessing.get_context("spawn")
    for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
        job = spawn.Process(target=child, args=(backend, args))
        job.start()
        job.join()
        if job.exitcode:
            sys.exit(job.exitcode)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(values_ms: list[float]) -> str:
    return (
        f"median {statistics.median(values_ms):.3f} ms  p95 {percentile(values_ms, 95):.3f} ms  "
        f"p99 {percentile(values_ms, 99):.3f} ms  mean {statistics.fmean(values_ms):.3f} ms"
    )
