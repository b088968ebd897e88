"""Complete calls recorded per second through the calls service (tracker + database + hub).

    python bench/bench_calls_service.py [--calls 2000] [--backend sqlite|postgres] [--workers N]

Each run uses a private database (a temporary SQLite file, or a `centralita_bench_...`
PostgreSQL database on `--pg`), so runs never see each other's rows.

Each call is the recorded `inbound_unknown_answered` trace with its ids rewritten and a caller
number of its own, so every call is matched, stored, gets an auto-lead and a timeline entry
(the most work a call can cause). Events are fed as fast as `on_event` takes them; the figure
is calls stored per second from the first event to the last stored call. Prints, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import DEFAULT_PG, private_database  # noqa: E402

from daemon.ami.calls_service import CallsService  # noqa: E402
from daemon.ami.traces import load_events  # noqa: E402
from daemon.ami.tracker import CallTracker  # noqa: E402
from daemon.ami.tracker_types import ChannelRoles  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.hub import Hub  # noqa: E402
from models.people.users import create_user, ensure_standard_groups  # noqa: E402
from models.schema.activity import TimelineEntry  # noqa: E402
from models.schema.calls import Call  # noqa: E402
from models.schema.company import Company, TelephonySettings  # noqa: E402
from models.schema.leads import Lead  # noqa: E402
from models.telephony.caller_directory import CallerDirectory  # noqa: E402

TRACE = ROOT / "tests" / "fixtures" / "ami-traces" / "inbound_unknown_answered.ami"
ROLES = dict(
    agent_channels=("Local/{extension}@agents",),
    trunk_channels=("Local/*@pstn-carrier-*;1", "Local/*@from-pstn-*;2"),
)
CALLER = "+34600111222"


def stream(calls: int) -> list[dict[str, str]]:
    template = load_events(TRACE)
    out = []
    for n in range(calls):
        number = f"+34600{n:06d}"
        for event in template:
            copy = {}
            for key, value in event.items():
                if key.endswith(("Uniqueid", "Linkedid")) and value:
                    value = f"{value}-{n}"
                elif value == CALLER:
                    value = number
                copy[key] = value
            out.append(copy)
    return out


async def prepare(url: str) -> None:
    await open_db(url)
    await ensure_standard_groups()
    await Company.create(name="Bench", default_region="ES")
    await TelephonySettings.create()
    await create_user("luis", "bench-pass-1", extension="101", full_name="Luis")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--workers", type=int, default=1, help="store lanes")
    args = parser.parse_args()
    async with private_database(args.backend, args.pg, None) as url:
        await run(args, url)


async def run(args: argparse.Namespace, url: str) -> None:
    await prepare(url)
    events = stream(args.calls)
    hub = Hub()
    published = 0

    async def count(_: object) -> None:
        nonlocal published
        published += 1

    hub.subscribe("bench", count)
    tracker = CallTracker(roles=ChannelRoles(**ROLES), request_variables=("CRM_CALL_ID",))
    directory = await CallerDirectory.load()
    service = CallsService(hub, SystemClock(), directory, tracker, store_workers=args.workers)
    await directory.extensions.load()
    service.start()
    started = time.perf_counter()
    for event in events:
        await service.on_event(event)
    fed = time.perf_counter() - started
    await service.drain()
    elapsed = time.perf_counter() - started
    await hub.drain()
    stored = await Call.all().count()
    leads = await Lead.all().count()
    entries = await TimelineEntry.filter(kind="call").count()
    await service.stop()
    await hub.close()
    await close_db()
    print(
        f"{args.backend}: {stored} calls ({len(events)} events) stored in "
        f"{elapsed:.2f} s = {stored / elapsed:,.0f} calls/s with {args.workers} store lane(s) "
        f"(events fed in {fed:.2f} s; {published} hub events; {service.failures} failures; "
        f"{leads} auto-leads, {entries} call timeline entries; "
        f"{directory.store.calls_stored / max(1, directory.store.transactions):.1f} calls "
        "per transaction)"
    )


if __name__ == "__main__":
    asyncio.run(main())
