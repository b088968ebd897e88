"""Benchmark of the client import (C9): 100,000 clients with one to three phones each.

Usage:
    python bench/bench_import.py [--rows N] [--pg postgres://postgres@127.0.0.1:5432/postgres]

For CSV and .xlsx it prints the whole import's rows/s and peak memory (max RSS of a fresh
subprocess that does only the import), next to a bare read of the same file by the fastest
reader (csv module; calamine) and by openpyxl in read-only mode, and the ratio between them.
Targets: >= 20,000 rows/s for CSV, >= 15,000 rows/s for .xlsx, peak <= 300 MB.

After each import it measures the database's own floor: the seconds it needs to write the
same rows again with a plain INSERT ... SELECT from copies (no JSON, no Python per row),
and the import's time as a multiple of it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = ["Nombre", "Teléfono", "Email", "Empresa", "Etiquetas"]
MAPPING = {
    "Nombre": "name",
    "Teléfono": "phones",
    "Email": "emails",
    "Empresa": "company_name",
    "Etiquetas": "tags",
}


def _phone(rng: random.Random) -> str:
    shape = rng.randrange(4)
    if shape == 0:
        return f"+34 9{rng.randrange(10**7, 10**8)}"
    if shape == 1:
        return f"6{rng.randrange(10**7, 10**8)}"
    if shape == 2:
        return f"+44 20 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
    return f"7{rng.randrange(10**7, 10**8)}"


def make_rows(count: int):
    rng = random.Random(7)
    for i in range(count):
        phones = ", ".join(_phone(rng) for _ in range(rng.randint(1, 3)))
        yield [
            f"Cliente {i} Pérez",
            phones,
            f"c{i}@example.com",
            f"Empresa {i % 500}",
            rng.choice(["vip", "madrid", "vip, madrid", ""]),
        ]


def write_files(directory: Path, count: int) -> tuple[Path, Path]:
    import openpyxl

    csv_path = directory / "clients.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(make_rows(count))
    xlsx_path = directory / "clients.xlsx"
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for row in make_rows(count):
        sheet.append(row)
    workbook.save(xlsx_path)
    return csv_path, xlsx_path


def bare_read(path: Path, reader: str) -> tuple[int, float]:
    start = time.perf_counter()
    rows = 0
    if reader == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            for _ in csv.reader(handle):
                rows += 1
    elif reader == "calamine":
        import python_calamine

        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        for _ in workbook.get_sheet_by_index(0).iter_rows():
            rows += 1
    else:
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True)
        for _ in workbook.active.iter_rows(values_only=True):
            rows += 1
        workbook.close()
    return rows - 1, time.perf_counter() - start


async def _import(path: Path, url: str, workers: int | None) -> dict:
    from models.core.db import close_db, open_db
    from models.importing import create_import, run_import
    from models.schema.company import Company

    await open_db(url)
    try:
        await Company.create(name="Bench", default_region="ES")
        start = time.perf_counter()
        max_bytes = 1 << 30
        batch = await create_import(
            None, path, kind="clients", mapping=MAPPING, max_bytes=max_bytes
        )
        batch = await run_import(batch.id, max_bytes=max_bytes, workers=workers)
        elapsed = time.perf_counter() - start
        return {
            "seconds": elapsed,
            "created": batch.created_count,
            "rejected": batch.rejected_count,
            "status": batch.status,
            "error": batch.error,
        }
    finally:
        await close_db()


# What a client import writes, parents first: the floor measures writing these rows again.
WRITTEN = ("client", "timeline_entry", "phone", "email", "client_tag")


def _floor_sqlite(url: str) -> dict:
    """Seconds SQLite needs to write the imported rows once more with a plain INSERT ...
    SELECT from in-memory copies: the same indexes, triggers and foreign keys, in one
    transaction, without JSON or Python per row. No import on this schema can be faster."""
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite://"), isolation_level=None)
    try:
        conn.execute("ATTACH ':memory:' AS copy")
        for table in WRITTEN:
            conn.execute(f'CREATE TABLE copy."{table}" AS SELECT * FROM main."{table}"')
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN")
        for table in reversed(WRITTEN):
            conn.execute(f'DELETE FROM main."{table}"')
        conn.execute("COMMIT")
        start = time.perf_counter()
        conn.execute("BEGIN")
        for table in WRITTEN:
            conn.execute(f'INSERT INTO main."{table}" SELECT * FROM copy."{table}"')
        conn.execute("COMMIT")
        return {"floor_seconds": time.perf_counter() - start}
    finally:
        conn.close()


async def _floor_pg(url: str) -> dict:
    """The same on PostgreSQL, and again with foreign-key checks and triggers off
    (session_replication_role = replica, which only a superuser may set)."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    result: dict = {}
    try:
        async with conn.transaction():
            for table in WRITTEN:
                await conn.execute(f'CREATE TEMP TABLE "copy_{table}" AS SELECT * FROM "{table}"')
        for key, role in (("floor_seconds", "origin"), ("floor_no_fk_seconds", "replica")):
            tx = conn.transaction()
            await tx.start()
            try:
                await conn.execute("SET LOCAL client_min_messages = warning")
                await conn.execute('TRUNCATE "client" CASCADE')
                await conn.execute(f"SET LOCAL session_replication_role = {role}")
                start = time.perf_counter()
                for table in WRITTEN:
                    await conn.execute(f'INSERT INTO "{table}" SELECT * FROM "copy_{table}"')
                result[key] = time.perf_counter() - start
            finally:
                await tx.rollback()
    finally:
        await conn.close()
    return result


def child(path: Path, url: str, workers: str) -> None:
    result = asyncio.run(_import(path, url, None if workers == "auto" else int(workers)))
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Worker processes (when the import uses them) are children: their largest peak.
    result["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if result["status"] == "done":
        result.update(
            _floor_sqlite(url) if url.startswith("sqlite") else asyncio.run(_floor_pg(url))
        )
    print(json.dumps(result))


def _fresh_pg(base: str) -> tuple[str, str]:
    import asyncpg

    name = f"centralita_bench_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        conn = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()

    asyncio.run(create())
    return base.rsplit("/", 1)[0] + "/" + name, name


def _drop_pg(base: str, name: str) -> None:
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    asyncio.run(drop())


def run_import_subprocess(path: Path, url: str, workers: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), url, workers],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is created)")
    parser.add_argument(
        "--workers", default="auto", help="worker processes checking rows (auto, 0 = none)"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1], args.child[2])
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        csv_path, xlsx_path = write_files(directory, args.rows)
        print(
            f"files: {args.rows} rows, CSV {csv_path.stat().st_size / 1e6:.1f} MB, "
            f"xlsx {xlsx_path.stat().st_size / 1e6:.1f} MB "
            f"(written in {time.perf_counter() - started:.0f} s)"
        )
        reads = {
            "csv": bare_read(csv_path, "csv"),
            "calamine": bare_read(xlsx_path, "calamine"),
            "openpyxl read-only": bare_read(xlsx_path, "openpyxl"),
        }
        for name, (rows, seconds) in reads.items():
            print(f"bare read {name:<19} {rows / seconds:>10,.0f} rows/s")
        databases = [("sqlite", None)]
        if args.pg:
            databases.append(("postgresql", args.pg))
        for db_name, pg in databases:
            for fmt, path, fastest, target in (
                ("csv", csv_path, "csv", 20_000),
                ("xlsx", xlsx_path, "calamine", 15_000),
            ):
                if pg:
                    url, scratch = _fresh_pg(pg)
                else:
                    url, scratch = f"sqlite://{directory / f'bench-{fmt}.sqlite3'}", ""
                try:
                    result = run_import_subprocess(path, url, args.workers)
                finally:
                    if pg:
                        _drop_pg(pg, scratch)
                rate = result["created"] / result["seconds"]
                bare_rate = reads[fastest][0] / reads[fastest][1]
                # Both processes' peaks added: an upper bound of the whole import's memory.
                peak = result["max_rss_mb"] + result["worker_rss_mb"]
                verdict = "ok" if rate >= target and peak <= 300 else "BELOW TARGET"
                print(
                    f"import {fmt:<4} on {db_name:<10}: {result['created']:,} created in "
                    f"{result['seconds']:.1f} s = {rate:,.0f} rows/s (target {target:,}), "
                    f"peak RSS {peak:.0f} MB = {result['max_rss_mb']:.0f} main + "
                    f"{result['worker_rss_mb']:.0f} worker (target 300), "
                    f"{rate / bare_rate:.2f}x of a bare {fastest} read [{verdict}]"
                )
                if "floor_seconds" in result:
                    floor = result["floor_seconds"]
                    line = (
                        f"  the database alone writes the same rows (INSERT ... SELECT from "
                        f"copies) in {floor:.1f} s = {result['created'] / floor:,.0f} rows/s; "
                        f"the import takes {result['seconds'] / floor:.1f}x that"
                    )
                    if "floor_no_fk_seconds" in result:
                        bare = result["floor_no_fk_seconds"]
                        line += (
                            f"; without foreign keys and triggers {bare:.1f} s = "
                            f"{result['created'] / bare:,.0f} rows/s"
                        )
                    print(line)
                if result["status"] != "done":
                    print(f"  import status {result['status']}: {result['error']}")


if __name__ == "__main__":
    main()
