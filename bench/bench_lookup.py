"""Caller lookup by phone on a demo-data database: the domain operation against raw SQL.

    python bench/bench_lookup.py                      # 1,000,000 clients, both databases
    python bench/bench_lookup.py --clients 200000 --backend sqlite --profile
    python bench/bench_lookup.py --backend postgres --pg-db centralita_bench_1m --reuse

Loads `centralita demo-data` at the given size into a private database (or reuses one
kept by bench_demo_data.py --keep/--keep-sqlite with --reuse), picks random existing
numbers and types them the ways people and PBXs do (E.164, as stored, 00-prefixed,
national, spaced international), then times per lookup:
- CallerDirectory.find_by_phone (what the daemon runs on every ringing call);
- models.telephony.caller_directory.find_by_phone (the one-off helper, which also reads the
  company);
- the limit: `SELECT client_id FROM phone WHERE e164 = $1` sent straight through the
  driver on the same connection, with the E.164 already known;
- the same SQL through Tortoise's execute_query, to split ORM cost from driver cost.
Targets: p99 at most 2 ms, ratio to the raw query at most 3.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import phonenumbers  # noqa: E402
from tortoise import connections  # noqa: E402

from bench._common import (  # noqa: E402
    add_database_arguments,
    bench_database,
    percentile,
    run_each_backend,
    summary,
    top_up_demo_data,
)
from models.core.db import close_db, open_db  # noqa: E402
from models.schema.clients import Client  # noqa: E402
from models.telephony import caller_directory as caller  # noqa: E402
from models.telephony.caller_directory import CallerDirectory  # noqa: E402


def formats(e164: str, typed: str, rng: random.Random) -> str:
    """One of the ways this number reaches the lookup."""
    number = phonenumbers.parse(e164)
    style = rng.randrange(5)
    if style == 0:
        return e164
    if style == 1:
        return typed
    if style == 2:
        return "00" + e164[1:]
    if style == 3 and number.country_code == 34:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


async def sample(n: int, rng: random.Random) -> list[tuple[str, str, int | None, int | None]]:
    """(as dialled, e164, client_id, lead_id) of n random stored valid numbers."""
    conn = connections.get("default")
    top = (await conn.execute_query_dict("SELECT MAX(id) AS m FROM phone"))[0]["m"]
    picked: dict[int, tuple] = {}
    while len(picked) < n:
        ids = sorted({rng.randrange(1, top + 1) for _ in range(n)})
        rows = await conn.execute_query_dict(
            "SELECT id, typed, e164, client_id, lead_id FROM phone "
            f"WHERE e164 IS NOT NULL AND id IN ({', '.join(map(str, ids))})"
        )
        for row in rows:
            picked.setdefault(row["id"], row)
    rows = list(picked.values())[:n]
    rng.shuffle(rows)
    return [
        (formats(r["e164"], r["typed"], rng), r["e164"], r["client_id"], r["lead_id"]) for r in rows
    ]


async def time_domain(lookup, numbers: list[tuple]) -> tuple[list[float], int]:
    times, wrong = [], 0
    for dialled, _, client_id, lead_id in numbers:
        started = time.perf_counter_ns()
        client, lead = await lookup(dialled)
        times.append((time.perf_counter_ns() - started) / 1e6)
        found = (client.id if client else None, lead.id if lead else None)
        # A lead's number that also belongs to a client is found as the client (preferred).
        if found != (client_id, lead_id) and not (lead_id and found[0]):
            wrong += 1
    return times, wrong


class OneQueryLookup:
    """The fix proposed for CallerDirectory.find_by_phone, measured here to size it.

    One round trip (phone joined to its client) with the SQL written once, instead of two
    ORM queries each built anew; the lead query runs only when no client has the number.
    """

    def __init__(self, directory: CallerDirectory) -> None:
        self.directory = directory
        conn = connections.get("default")
        self.conn = conn
        mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
        self.client_sql = (
            "SELECT c.* FROM phone p JOIN client c ON c.id = p.client_id "
            f"WHERE p.e164 = {mark} ORDER BY p.id LIMIT 1"
        )

    async def find_by_phone(self, number: str):
        e164 = self.directory.e164(number)
        if e164 is None:
            return await self.directory.find_by_phone(number)
        rows = await self.conn.execute_query_dict(self.client_sql, [e164])
        if rows:
            return Client._init_from_db(**rows[0]), None
        return await self.directory.find_by_phone(number)


async def time_raw(numbers: list[tuple]) -> list[float]:
    """The driver alone: one parameterized indexed SELECT per number, E.164 known."""
    conn = connections.get("default")
    times = []
    async with conn.acquire_connection() as raw:
        if conn.capabilities.dialect == "postgres":
            for _, e164, _, _ in numbers:
                started = time.perf_counter_ns()
                await raw.fetch("SELECT client_id FROM phone WHERE e164 = $1", e164)
                times.append((time.perf_counter_ns() - started) / 1e6)
        else:
            for _, e164, _, _ in numbers:
                started = time.perf_counter_ns()
                await raw.execute_fetchall("SELECT client_id FROM phone WHERE e164 = ?", (e164,))
                times.append((time.perf_counter_ns() - started) / 1e6)
    return times


async def time_tortoise_sql(numbers: list[tuple]) -> list[float]:
    conn = connections.get("default")
    mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
    sql = f"SELECT client_id FROM phone WHERE e164 = {mark}"
    times = []
    for _, e164, _, _ in numbers:
        started = time.perf_counter_ns()
        await conn.execute_query(sql, [e164])
        times.append((time.perf_counter_ns() - started) / 1e6)
    return times


async def run(backend: str, args: argparse.Namespace) -> None:
    async with bench_database(backend, args) as url:
        await open_db(url)
        try:
            await top_up_demo_data(backend, args.clients)
            clients = await Client.all().count()
            rng = random.Random(args.seed)
            numbers = await sample(args.lookups, rng)
            warm = numbers[: min(500, len(numbers))]
            directory = await CallerDirectory.load()
            await time_domain(directory.find_by_phone, warm)
            await time_raw(warm)
            domain, wrong = await time_domain(directory.find_by_phone, numbers)
            oneoff, _ = await time_domain(caller.find_by_phone, numbers[:2000])
            proposed = OneQueryLookup(directory)
            await time_domain(proposed.find_by_phone, warm)
            one_query, wrong_proposed = await time_domain(proposed.find_by_phone, numbers)
            raw = await time_raw(numbers)
            via_orm_sql = await time_tortoise_sql(numbers)
            print(f"{backend}: {clients:,} clients, {len(numbers):,} lookups in mixed formats")
            print(f"  CallerDirectory.find_by_phone   {summary(domain)}")
            print(f"  caller.find_by_phone (one-off)  {summary(oneoff)}")
            print(f"  proposed: one joined query      {summary(one_query)}")
            print(f"  raw SQL through the driver      {summary(raw)}")
            print(f"  same SQL via execute_query      {summary(via_orm_sql)}")
            for label, times, errors in (
                ("domain", domain, wrong),
                ("proposed", one_query, wrong_proposed),
            ):
                ratio = statistics.median(times) / statistics.median(raw)
                p99 = percentile(times, 99)
                print(
                    f"  => {label}: p99 {p99:.3f} ms (target <= 2 ms: "
                    f"{'ok' if p99 <= 2 else 'MISSED'}), median ratio to raw {ratio:.2f} "
                    f"(target <= 3: {'ok' if ratio <= 3 else 'MISSED'}), "
                    f"p99 ratio {p99 / percentile(raw, 99):.2f}, wrong answers {errors}",
                    flush=True,
                )
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                await time_domain(directory.find_by_phone, numbers[:2000])
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
                print(out.getvalue())
        finally:
            await close_db()


def _child(backend: str, args: argparse.Namespace) -> None:
    asyncio.run(run(backend, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    add_database_arguments(parser)
    parser.add_argument("--profile", action="store_true", help="profile 2,000 domain lookups")
    run_each_backend(_child, parser.parse_args())


if __name__ == "__main__":
    main()
