"""Client search at a million clients: name parts and email parts, as the client list runs it.

    python bench/bench_demo_data.py --clients 1000000 --keep-sqlite /tmp/demo_1m.sqlite3 \
        --keep centralita_bench_1m
    python bench/bench_search.py --sqlite /tmp/demo_1m.sqlite3 --pg-db centralita_bench_1m

Opens a demo-data database (applying pending migrations first, and printing how long they
took: on a database from before migration 0005 that is the move to the trigram search),
picks random existing clients and times `list_clients` (the client list's search: at most
10,001 matching ids, newest first, and the first page of 50) as an admin, for:
- the start of a word of the name (5 characters: "ferna");
- a part inside a word of the name (4 characters from its middle: "rnan");
- a part of an email (its local part: "mfernandez");
- a whole email address;
- the limit: an indexed equality on client.name_key through the driver.
Prints p50 / p95 in ms, how many of the searches showed the client they were made from on
the first page (newest first: a common part matches thousands) and the median matches
(capped at 10,001).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tortoise import connections  # noqa: E402

from models.contacts.clients import list_clients  # noqa: E402
from models.core.db import close_db, migrate, open_db  # noqa: E402
from models.schema.users import User  # noqa: E402

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/test"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _samples(rng: random.Random, count: int) -> list[dict]:
    conn = connections.get("default")
    top = (await conn.execute_query_dict("SELECT MAX(id) AS m FROM client"))[0]["m"]
    picked: list[dict] = []
    while len(picked) < count:
        cid = rng.randint(1, top)
        rows = await conn.execute_query_dict(
            "SELECT c.id AS id, c.name_key AS name_key, e.address AS address FROM client c "
            f"JOIN email e ON e.client_id = c.id WHERE c.id = {cid:d}"
        )
        if not rows:
            continue
        words = [w for w in rows[0]["name_key"].split() if len(w) >= 6 and w.isalpha()]
        if words:
            picked.append({**rows[0], "word": rng.choice(words)})
    return picked


async def _time(user: User, query: str, client_id: int) -> tuple[float, bool, int]:
    start = time.perf_counter()
    rows, total = await list_clients(user, query=query, limit=50)
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed, client_id in {r.id for r in rows}, total


async def run(url: str, count: int, seed: int) -> None:
    start = time.perf_counter()
    applied = await migrate(url)
    print(f"  migrations applied: {applied or 'none'} in {time.perf_counter() - start:.1f} s")
    await open_db(url, run_migrations=False)
    try:
        admin = await User.filter(group__name="Admin").first() or await User.first()
        assert admin is not None
        await admin.fetch_related("group")
        print(f"  searching as {admin.username} ({admin.group.name})")
        rng = random.Random(seed)
        samples = await _samples(rng, count)
        kinds = {
            "start of a name word": lambda s: s["word"][:5],
            "part inside a name word": lambda s: s["word"][1:5],
            "part of an email": lambda s: s["address"].split("@")[0],
            "whole email": lambda s: s["address"],
        }
        for sample in samples[:10]:  # warm-up
            await _time(admin, kinds["start of a name word"](sample), sample["id"])
        for label, make in kinds.items():
            times, hits, totals = [], 0, []
            for sample in samples:
                elapsed, hit, total = await _time(admin, make(sample), sample["id"])
                times.append(elapsed)
                hits += hit
                totals.append(total)
            print(
                f"  {label:<26} p50 {_pct(times, 0.5):7.1f} ms  p95 {_pct(times, 0.95):7.1f} ms"
                f"  on the first page {hits}/{len(samples)}, median matches {_pct(totals, 0.5)}"
            )
        conn = connections.get("default")
        sqlite = conn.capabilities.dialect == "sqlite"
        mark = "?" if sqlite else "$1"
        times = []
        for sample in samples:
            begin = time.perf_counter()
            await conn.execute_query(
                f"SELECT id FROM client WHERE name_key = {mark}", [sample["name_key"]]
            )
            times.append((time.perf_counter() - begin) * 1000)
        print(
            f"  {'limit: name_key equality':<26} p50 {_pct(times, 0.5):7.1f} ms"
            f"  p95 {_pct(times, 0.95):7.1f} ms"
        )
    finally:
        await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", help="a demo-data SQLite file")
    parser.add_argument("--pg-db", help="a demo-data PostgreSQL database name")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="server of --pg-db")
    parser.add_argument("--queries", type=int, default=200, help="searches of each kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(run(args.child, args.queries, args.seed))
        return
    urls = []
    if args.sqlite:
        urls.append(f"sqlite://{args.sqlite}")
    if args.pg_db:
        urls.append(f"{args.pg_url.rsplit('/', 1)[0]}/{args.pg_db}")
    for url in urls:
        print(url)
        # One process per database: Tortoise keeps one configuration per process.
        command = [sys.executable, __file__, "--child", url, "--queries", str(args.queries)]
        subprocess.run([*command, "--seed", str(args.seed)], check=True)


if __name__ == "__main__":
    main()
