"""Helpers shared by the benchmarks: private databases and percentiles."""

from __future__ import annotations

import os
import statistics
import tempfile
import uuid
from collections.abc import AsyncIterator
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(values_ms: list[float]) -> str:
    return (
        f"median {statistics.median(values_ms):.3f} ms  p95 {percentile(values_ms, 95):.3f} ms  "
        f"p99 {percentile(values_ms, 99):.3f} ms  mean {statistics.fmean(values_ms):.3f} ms"
    )
