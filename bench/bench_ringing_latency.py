"""Ringing latency through the AMI link: from the event that announces an agent's phone is
ringing leaving the simulator's socket, to the ringing transition reaching a hub subscriber,
with about N calls up at once. No database: this is the link's and tracker's share.

The path: simulator socket -> TCP -> AmiLink (guarded protocol, parsing, in-order delivery)
-> CallTracker.feed -> hub.publish -> subscriber's queue and task. (bench_ring_latency.py
measures the whole path with the calls service and the caller-card lookup in a database.)
The first event that rings an agent is its DialBegin (then Newstate Ringing); the earliest
one sent is the start. Target (issue 3): p99 <= 10 ms at 200 concurrent calls.
Prints figures, asserts nothing.

    python bench/bench_ringing_latency.py [--concurrent 200] [--total 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import summary  # noqa: E402

from daemon.ami.link import AmiLink  # noqa: E402
from daemon.ami.tracker import CallTracker  # noqa: E402
from daemon.ami.tracker_types import Ringing  # noqa: E402
from daemon.pbxsim import PbxSimulator  # noqa: E402
from models.core.hub import Hub  # noqa: E402
from models.core.settings import AmiSettings  # noqa: E402


def _extension(channel: str) -> str:
    return channel.split("/", 1)[-1].split("-", 1)[0]


async def run(args: argparse.Namespace) -> None:
    sent: dict[tuple[str, str], float] = {}
    got: dict[tuple[str, str], float] = {}

    def on_sent(fields: list[tuple[str, str]]) -> None:
        now = time.perf_counter()
        headers = dict(fields)
        kind = headers.get("Event")
        if kind == "DialBegin" and headers.get("DestChannel", "").startswith("PJSIP/1"):
            key = (headers.get("DestLinkedid", ""), _extension(headers["DestChannel"]))
        elif kind == "Newstate" and headers.get("ChannelState") == "5":
            key = (headers.get("Linkedid", ""), _extension(headers.get("Channel", "")))
        else:
            return
        sent.setdefault(key, now)

    hub = Hub()

    async def on_ringing(event: Ringing) -> None:
        got.setdefault((event.linkedid, event.extension), time.perf_counter())

    hub.subscribe("bench-ringing", on_ringing, Ringing)
    extensions = [str(1000 + n) for n in range(args.concurrent)]
    tracker = CallTracker(lambda: extensions)

    async def on_event(event: dict[str, str]) -> None:
        for transition in tracker.feed(event):
            hub.publish(transition)

    async def on_resync(channels: list[dict[str, str]]) -> None:
        for transition in tracker.resync(channels):
            hub.publish(transition)

    sim = PbxSimulator(speed=args.speed)
    sim.sent_hook = on_sent
    await sim.start()
    settings = AmiSettings(
        host="127.0.0.1", port=sim.port, username=sim.username, secret=sim.secret
    )
    link = AmiLink(settings, on_event, on_resync)
    await link.start()
    await link.wait_ready(10)
    real_call = (args.answer_after + args.talk) / args.speed
    interval = real_call / args.concurrent  # a steady pace of new calls
    peak = 0
    try:
        started = []
        live: list = []
        for n in range(args.total):
            # Keep `concurrent` calls up: wait while that many are still in progress.
            while len(live) >= args.concurrent:
                await asyncio.sleep(interval / 4)
                live = [c for c in live if not c.ended.is_set()]
            ext = extensions[n % args.concurrent]
            call = await sim.inbound_call(
                f"+34600{n:06d}",
                "900100200",
                [ext],
                answer_by=ext,
                answer_after=args.answer_after,
                talk=args.talk,
            )
            started.append(call)
            live = [c for c in live if not c.ended.is_set()] + [call]
            peak = max(peak, len(live))
            await asyncio.sleep(interval / 2)
        await asyncio.gather(*(c.done() for c in started))
        await asyncio.sleep(0.2)
        await hub.drain()
    finally:
        await link.stop()
        await sim.close()
        await hub.close()
    keys = sent.keys() & got.keys()
    latencies = [(got[k] - sent[k]) * 1000 for k in keys]
    print(f"{len(keys)}/{args.total} ringing calls measured, up to {peak} calls at once")
    print(f"simulator socket -> link -> tracker -> hub subscriber: {summary(latencies)}")
    print("target: p99 <= 10 ms at 200 concurrent calls")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=200, help="calls up at once")
    parser.add_argument("--total", type=int, default=1000, help="calls measured")
    parser.add_argument("--talk", type=float, default=60.0, help="simulated seconds of talk")
    parser.add_argument("--answer-after", type=float, default=2.0)
    parser.add_argument("--speed", type=float, default=20.0, help="simulated seconds per second")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
