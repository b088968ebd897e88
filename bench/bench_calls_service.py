"""Complete calls recorded per second through the calls service (tracker + database + hub).

    python bench/bench_calls_service.py [--calls 2000] [--db sqlite:///tmp/bench-calls.sqlite3]
    python bench/bench_calls_service.py --db postgres://postgres@127.0.0.1:5432/bench

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

from daemon.ami.calls_service import CallsService  # noqa: E402
from daemon.ami.traces import load_events  # noqa: E402
from daemon.ami.tracker import CallTracker  # noqa: E402
from daemon.ami.tracker_types import ChannelRoles  # noqa: E402
from models.caller import CallerDirectory  # noqa: E402
from models.clock import SystemClock  # noqa: E402
from models.db import close_db, open_db  # noqa: E402
from models.hub import Hub  # noqa: E402
from models.schema.activity import TimelineEntry  # noqa: E402
from models.schema.calls import Call  # noqa: E402
from models.schema.company import Company, TelephonySettings  # noqa: E402
from models.schema.leads import Lead  # noqa: E402
from models.users import create_user, ensure_standard_groups  # noqa: E402

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
    if url.startswith("sqlite://"):
        Path(url.removeprefix("sqlite://")).unlink(missing_ok=True)  # noqa: ASYNC240 (setup)
    await open_db(url)
    if await Company.exists():
        # A second run must do the same work: unknown callers again, auto-leads again.
        await TimelineEntry.all().delete()
        await Call.all().delete()
        await Lead.all().delete()
        return
    await ensure_standard_groups()
    await Company.create(name="Bench", default_region="ES")
    await TelephonySettings.create()
    await create_user("luis", "bench-pass-1", extension="101", full_name="Luis")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--db", default="sqlite:///tmp/bench-calls.sqlite3")
    parser.add_argument("--workers", type=int, default=1, help="store lanes")
    args = parser.parse_args()
    await prepare(args.db)
    events = stream(args.calls)
    hub = Hub()
    published = 0

    async def count(_: object) -> None:
        nonlocal published
        published += 1

    hub.subscribe("bench", count)
    tracker = CallTracker(roles=ChannelRoles(**ROLES), request_variables=("CRM_CALL_ID",))
    service = CallsService(
        hub, SystemClock(), await CallerDirectory.load(), tracker, store_workers=args.workers
    )
    await service.refresh_users()
    service.start()
    started = time.perf_counter()
    for event in events:
        await service.on_event(event)
    fed = time.perf_counter() - started
    await service.drain()
    elapsed = time.perf_counter() - started
    await hub.drain()
    stored = await Call.all().count()
    await service.stop()
    await hub.close()
    await close_db()
    print(
        f"{args.db.split('://')[0]}: {stored} calls ({len(events)} events) stored in "
        f"{elapsed:.2f} s = {stored / elapsed:,.0f} calls/s with {args.workers} store lane(s) "
        f"(events fed in {fed:.2f} s; {published} hub events; {service.failures} failures)"
    )


if __name__ == "__main__":
    asyncio.run(main())
