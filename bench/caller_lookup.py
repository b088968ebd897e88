"""Caller lookup and client search at scale: prints figures, asserts nothing.

    python bench/caller_lookup.py [--clients 1000000] [--db /tmp/bench.sqlite3]

Fills a SQLite database with N clients (one Spanish mobile each) once, then times:
- CallerDirectory.find_by_phone (what runs on every ringing call) against the limit it can be
  compared to: the same indexed SELECT on Phone.e164 sent straight through the connection;
- caller_card (the pop-up), record_call of an unknown number (auto-lead);
- list_clients searches: full number, last 4 digits, name prefix, a later word of the name.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tortoise import connections  # noqa: E402

from models.contacts.clients import list_clients  # noqa: E402
from models.contacts.contact_details import search_key  # noqa: E402
from models.core.clock import FixedClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.people.users import create_user, ensure_standard_groups  # noqa: E402
from models.schema.clients import Client  # noqa: E402
from models.schema.company import Company, TelephonySettings  # noqa: E402
from models.schema.users import User  # noqa: E402
from models.telephony.call_record import CallRecord  # noqa: E402
from models.telephony.caller_directory import CallerDirectory  # noqa: E402

FIRST = ["Ana", "Luis", "Marta", "Pedro", "Sara", "Jorge", "Lucía", "Pablo", "Elena", "Íñigo"]
LAST = ["García", "Pérez", "Núñez", "Ruiz", "López", "Martín", "Sánchez", "Gómez", "Díaz", "Moreno"]
BATCH = 20_000


def number_of(i: int) -> str:
    return f"+346{i:08d}"


async def fill(n: int) -> None:
    conn = connections.get("default")
    have = await Client.all().count()
    if have >= n:
        print(f"database already holds {have} clients")
        return
    await ensure_standard_groups()
    if not await Company.exists():
        await Company.create(name="Bench", default_region="ES")
        await TelephonySettings.create()
    started = time.perf_counter()
    now = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    rnd = random.Random(7)
    for base in range(have, n, BATCH):
        clients, phones = [], []
        for i in range(base, min(n, base + BATCH)):
            name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)} {i}"
            clients.append((i + 1, name, search_key(name), now, now))
            e164 = number_of(i)
            phones.append((e164, e164, e164[1:][::-1], i + 1))
        await conn.execute_many(
            "INSERT INTO client (id, name, name_key, status, type, company_name, created_at,"
            " updated_at) VALUES (?, ?, ?, 'active', 'person', '', ?, ?)",
            clients,
        )
        await conn.execute_many(
            "INSERT INTO phone (typed, e164, digits_rev, is_valid, position, client_id)"
            " VALUES (?, ?, ?, 1, 0, ?)",
            phones,
        )
    print(f"filled {n - have} clients in {time.perf_counter() - started:.1f} s")


async def timed(label: str, fn, runs: int) -> float:
    samples = []
    for i in range(runs):
        t = time.perf_counter()
        await fn(i)
        samples.append((time.perf_counter() - t) * 1000)
    median = statistics.median(samples)
    p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
    print(f"{label:<44} median {median:8.3f} ms   p95 {p95:8.3f} ms   ({runs} runs)")
    return median


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--db", default="/tmp/centralita-bench.sqlite3")
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    await open_db(f"sqlite://{args.db}")
    try:
        await fill(args.clients)
        n = args.clients
        rnd = random.Random(11)
        numbers = [number_of(rnd.randrange(n)) for _ in range(args.runs)]
        national = [num[3:6] + " " + num[6:8] + " " + num[8:] for num in numbers]
        directory = await CallerDirectory.load()
        conn = connections.get("default")

        async def raw(i: int) -> None:
            await conn.execute_query(
                "SELECT client_id FROM phone WHERE e164 = ? LIMIT 10", [numbers[i]]
            )

        async def lookup(i: int) -> None:
            client, _ = await directory.find_by_phone(national[i])
            assert client is not None

        print(f"--- {n} clients, SQLite {args.db}")
        limit = await timed("limit: raw indexed SELECT on phone.e164", raw, args.runs)
        ours = await timed("CallerDirectory.find_by_phone (national fmt)", lookup, args.runs)
        print(f"{'ratio find_by_phone / raw SELECT':<44} {ours / limit:8.2f} x")

        async def card(i: int) -> None:
            await directory.caller_card(numbers[i])

        await timed("CallerDirectory.caller_card", card, args.runs)

        if not await User.filter(username="benchadmin").exists():
            await create_user("benchadmin", "long-password", group_name="Admin", extension="900")
            await create_user("benchagent", "long-password", extension="901")
        clock = FixedClock(datetime(2026, 11, 25, tzinfo=UTC))
        unknown = [f"+3471{i:07d}" for i in range(50)]

        async def record(i: int) -> None:
            rec = CallRecord(
                linkedid=f"bench.{i}",
                direction="in",
                from_number=unknown[i],
                to_number="900",
                started_at=clock.now(),
                result="answered",
                agent_extension="901",
            )
            await directory.record_call(rec, clock=clock)

        await timed("record_call, unknown number -> auto-lead", record, len(unknown))
        boss = await User.get(username="benchadmin").prefetch_related("group")
        searches = {
            "list_clients full number": lambda i: national[i],
            "list_clients last 4 digits": lambda i: numbers[i][-4:],
            "list_clients name prefix (1 in 10 match)": lambda i: rnd.choice(FIRST)[:3],
            "list_clients later word (1 in 10 match)": lambda i: rnd.choice(LAST),
            "list_clients two words (1 in 100 match)": lambda i: (
                f"{rnd.choice(FIRST)} {rnd.choice(LAST)[:4]}"
            ),
            "list_clients selective word (1 match)": lambda i: str(rnd.randrange(n)),
        }
        for label, make in searches.items():

            async def search(i: int, make=make) -> None:
                await list_clients(boss, query=make(i), limit=50)

            await timed(label, search, 20)
    finally:
        await close_db()


if __name__ == "__main__":
    asyncio.run(main())
