"""Ringing latency on the PBX side: from the Newstate Ringing event leaving the simulator's
socket to the CallRang event reaching a hub subscriber, while about N calls are up at once
(new calls start at a steady pace, each ringing one agent).

The path measured: simulator socket -> AMI link (parsing, guards) -> call tracker ->
calls service live lane (caller card lookup in the database) -> hub. The web and bot
fan-out after the hub is measured by bench_popup_latency.py / bench_bot_latency.py;
bench_ringing_latency.py measures the same path without the database and calls service.
Target (issue 3): p99 <= 10 ms at 200 concurrent calls. Prints figures, asserts nothing.

`--speed` compresses simulated time: 200 calls of 62 s each mean 3.2 new calls a second at
speed 1, 13 at speed 4 (the default). Every finished call is also stored (with its auto-lead)
in the same process, as in the daemon; the store rate must stay above the call rate.

    python bench/bench_calls_service_latency.py [--concurrent 200] [--backend postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import DEFAULT_PG, private_database, seed_agents, summary  # noqa: E402

from daemon.ami.calls_service import CallsService  # noqa: E402
from daemon.ami.link import AmiLink  # noqa: E402
from daemon.pbxsim import PbxSimulator  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.events import CallRang  # noqa: E402
from models.core.hub import Hub  # noqa: E402
from models.core.settings import AmiSettings  # noqa: E402
from models.telephony.caller_directory import CallerDirectory  # noqa: E402


async def run(args: argparse.Namespace, url: str) -> None:
    await open_db(url)
    # One agent per ringing call, each a user of the CRM.
    await seed_agents(args.concurrent, 1000)

    sent: dict[tuple[str, str], float] = {}
    got: dict[tuple[str, str], float] = {}

    def on_sent(fields: list[tuple[str, str]]) -> None:
        headers = dict(fields)
        if headers.get("Event") == "Newstate" and headers.get("ChannelState") == "5":
            ext = headers.get("Channel", "").split("/", 1)[-1].split("-", 1)[0]
            sent.setdefault((headers.get("Linkedid", ""), ext), time.perf_counter())

    hub = Hub()

    async def on_rang(event: CallRang) -> None:
        got.setdefault((event.linkedid, event.extension), time.perf_counter())

    hub.subscribe("bench-ring", on_rang, CallRang)
    sim = PbxSimulator(speed=args.speed)
    sim.sent_hook = on_sent
    await sim.start()
    ami = AmiSettings(host="127.0.0.1", port=sim.port, username=sim.username, secret=sim.secret)
    directory = await CallerDirectory.load()
    service = CallsService.for_pbx(hub, SystemClock(), directory, ami)
    await directory.extensions.load()
    service.start()
    link = AmiLink(ami, service.on_event, service.on_resync)
    await link.start()
    await link.wait_ready(10)
    latencies: list[float] = []
    real_call = (args.answer_after + args.talk) / args.speed
    interval = real_call / args.concurrent  # so that about `concurrent` calls are up at once
    try:
        started = []
        live_peak = 0
        for n in range(args.total):
            ext = str(1000 + n % args.concurrent)
            started.append(
                await sim.inbound_call(
                    f"+34600{n:06d}",
                    "900100200",
                    [ext],
                    answer_by=ext,
                    answer_after=args.answer_after,
                    talk=args.talk,
                )
            )
            live_peak = max(live_peak, sum(1 for c in started if not c.ended.is_set()))
            await asyncio.sleep(interval)
        await asyncio.gather(*(c.done() for c in started))
        await service.drain()
        await hub.drain()
        keys = sent.keys() & got.keys()
        latencies = [(got[k] - sent[k]) * 1000 for k in keys]
        print(f"{len(keys)}/{args.total} ringing calls measured, up to {live_peak} calls at once")
    finally:
        await link.stop()
        await service.stop()
        await sim.close()
        await hub.close()
        await close_db()
    print(f"{args.backend}, about {args.concurrent} concurrent calls: {summary(latencies)}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=200, help="calls up at once")
    parser.add_argument("--total", type=int, default=400, help="calls measured")
    parser.add_argument("--talk", type=float, default=60.0, help="simulated seconds of talk")
    parser.add_argument("--answer-after", type=float, default=2.0)
    parser.add_argument("--speed", type=float, default=4.0, help="simulated seconds per second")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg", default=DEFAULT_PG)
    args = parser.parse_args()
    async with private_database(args.backend, args.pg, None) as url:
        await run(args, url)


if __name__ == "__main__":
    asyncio.run(main())
