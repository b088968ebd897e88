"""Fault figures (issue 19, item 4): what is lost or doubled when a part fails mid-work.

Real components and local servers, as the tests build them: `centralita run` with the PBX
simulator, the local Bot API server, an aiosmtpd SMTP server, PostgreSQL. Scenarios:

  ami-link-cut           the AMI link cut N times, a call in progress at each cut
  bot-api-429-5xx        the Bot API answers 429 (retry_after) and 5xx for S s while call
                         notifications are queued for a linked agent
  smtp-down              the SMTP server down for S s while emails wait in the outbox
  leader-kill            (PostgreSQL) three cluster instances; the leader SIGKILLed mid-call
                         with Telegram sends under way, R times
  leader-kill-import     (PostgreSQL) the leader SIGKILLed during an import started on its
                         panel; resumed from another instance's page
  leader-kill-dialer     (PostgreSQL) the leader SIGKILLed during a dialer list, mid-call
  pg-connections-killed  (PostgreSQL) every connection terminated during calls
  pg-restart             (PostgreSQL) a PostgreSQL server of the bench's own restarted (fast,
                         and immediate as a crash) during calls and their notifications

Each prints one row: made, recorded/delivered, lost, doubled (the call table by linkedid
against the simulator's calls; the fake Bot API's sendMessage by text; the SMTP server's
messages by subject). Exit 1 when any lost or doubled count is not 0 (or over the honest
bound printed in the "allowed" column).

    python bench/faults.py [--short] [--only SCENARIO] [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import DEFAULT_PG, dsn, private_database  # noqa: E402
from bench.faults_local import Row  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402

SCENARIOS = [
    "ami-link-cut",
    "bot-api-429-5xx",
    "smtp-down",
    "leader-kill",
    "leader-kill-import",
    "leader-kill-dialer",
    "pg-connections-killed",
    "pg-restart",
]
POSTGRES_ONLY = {
    "leader-kill",
    "leader-kill-import",
    "leader-kill-dialer",
    "pg-connections-killed",
    "pg-restart",
}
HEADER = (
    f"{'scenario':<22} {'backend':<8} {'made':>5} {'recorded':>8} {'lost':>5} "
    f"{'doubled':>7} {'allowed':>7} {'seconds':>8}  note"
)


def counts(args: argparse.Namespace) -> dict[str, float]:
    if args.short:
        return {
            "cuts": 3, "seconds": 3, "messages": 3, "mails": 3, "kills": 1, "per_kill": 2,
            "rows": 12_000, "numbers": 3,
        }  # fmt: skip
    return {
        "rows": args.rows,
        "numbers": args.numbers,
        "cuts": args.cuts,
        "seconds": args.seconds,
        "messages": args.messages,
        "mails": args.mails,
        "kills": args.kills,
        "per_kill": 4,
    }


@asynccontextmanager
async def fresh_copy(backend: str, template: str, pg_url: str) -> AsyncIterator[str]:
    """A copy of the migrated `template` database (migrating takes longer than any scenario)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="centralita_faults_") as tmp:
            path = Path(tmp) / "faults.sqlite3"
            shutil.copyfile(template.removeprefix("sqlite://"), path)
            yield f"sqlite://{path}"
        return
    name = f"centralita_faults_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn(pg_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.rsplit("/", 1)[1]}"')
    finally:
        await admin.close()
    try:
        yield f"{pg_url.rsplit('/', 1)[0]}/{name}"
    finally:
        admin = await asyncpg.connect(dsn(pg_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def run_scenario(
    name: str, backend: str, template: str, args: argparse.Namespace
) -> Row | list[Row]:
    import bench.faults_local as local  # after the sys.path line; imports the whole product

    n = counts(args)
    if name == "pg-restart":  # on a server of its own, which it restarts
        from bench.faults_pg_restart import pg_restart

        return await pg_restart(int(n["kills"]) + 1, int(n["per_kill"]))
    async with fresh_copy(backend, template, args.pg_url) as url:
        if name == "leader-kill":
            import bench.faults_cluster as cluster

            return await cluster.leader_kill(url, int(n["kills"]), int(n["messages"]))
        if name in ("leader-kill-import", "leader-kill-dialer"):
            import bench.faults_cluster_work as work

            if name == "leader-kill-import":
                return await work.leader_kill_import(url, int(n["rows"]))
            return await work.leader_kill_dialer(url, int(n["numbers"]), int(n["kills"]))
        if name == "ami-link-cut":
            return await local.ami_link_cut(url, int(n["cuts"]))
        if name == "bot-api-429-5xx":
            return await local.bot_api_outage(url, n["seconds"], int(n["messages"]))
        if name == "smtp-down":
            return await local.smtp_down(url, n["seconds"], int(n["mails"]))
        return await local.pg_connections_killed(url, int(n["kills"]) + 1, int(n["per_kill"]))


async def run_backend(backend: str, args: argparse.Namespace) -> bool:
    names = [args.only] if args.only else SCENARIOS
    names = [n for n in names if backend == "postgres" or n not in POSTGRES_ONLY]
    async with private_database(backend, args.pg_url, None) as template:
        await open_db(template)  # migrated once; each scenario runs on a copy
        await close_db()
        return await run_scenarios(names, backend, template, args)


async def run_scenarios(
    names: list[str], backend: str, template: str, args: argparse.Namespace
) -> bool:
    ok = True
    for name in names:
        rows = await run_scenario(name, backend, template, args)
        for row in rows if isinstance(rows, list) else [rows]:
            ok = ok and row.ok
            print_row(row, backend)
    return ok


def print_row(row: Row, backend: str) -> None:
    mark = "" if row.ok else "  <-- MISS"
    print(
        f"{row.scenario:<22} {backend:<8} {row.made:>5} {row.recorded:>8} {row.lost:>5} "
        f"{row.doubled:>7} {row.allowed_doubled:>7} {row.seconds:>8.1f}  {row.note}{mark}",
        flush=True,
    )


def child(backend: str, args: argparse.Namespace) -> None:
    # The components' retries are WARNINGs on stderr; the table is the output.
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL)
    sys.exit(0 if asyncio.run(run_backend(backend, args)) else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=SCENARIOS)
    parser.add_argument("--short", action="store_true", help="small counts, seconds not minutes")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--cuts", type=int, default=20, help="AMI link cuts")
    parser.add_argument("--seconds", type=float, default=60, help="Bot API / SMTP outage")
    parser.add_argument("--messages", type=int, default=20, help="notifications in the outage")
    parser.add_argument("--mails", type=int, default=20, help="emails queued in the outage")
    parser.add_argument("--kills", type=int, default=3, help="leader kills / PostgreSQL kills")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the killed import")
    parser.add_argument("--numbers", type=int, default=12, help="numbers of the dialer list")
    parser.add_argument("-v", "--verbose", action="store_true", help="log retries (stderr)")
    args = parser.parse_args()
    print(HEADER, flush=True)
    spawn = multiprocessing.get_context("spawn")  # Tortoise keeps per-dialect class state
    failed = False
    for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
        if args.only in POSTGRES_ONLY and backend != "postgres":
            continue
        job = spawn.Process(target=child, args=(backend, args))
        job.start()
        job.join()
        failed = failed or job.exitcode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
