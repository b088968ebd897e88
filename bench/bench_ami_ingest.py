"""AMI ingest: events per second through the AMI link and the call tracker, over TCP, no DB.

The stream: the 51 cacofonisk recordings, repeated with fresh Uniqueids/Linkedids until
`--events` (default 100,000) events. A simulator in another process (`centralita pbx-sim
--replay`, as a PBX is another machine) serves it to each client that logs in.

Measured, first event to last event received:
1. the limit: a bare panoramisk Manager with one catch-all handler (its own parsing);
2. our AmiLink (guarded protocol, incremental decoder, in-order delivery) handing every
   event to the pure CallTracker.
Target (issue 3): at least 0.8 of bare panoramisk, and at least 20,000 events/s.
Prints figures, asserts nothing.

    python bench/bench_ami_ingest.py [--events 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panoramisk import Manager  # noqa: E402

from daemon.ami.link import AmiLink  # noqa: E402
from daemon.ami.traces import load_events  # noqa: E402
from daemon.ami.tracker import CallTracker  # noqa: E402
from models.core.settings import AmiSettings  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "cacofonisk-traces"
_IDS = ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid")


def build_stream(total: int) -> list[dict[str, str]]:
    recordings = [load_events(p) for p in sorted(CORPUS.rglob("*.json"))]
    stream: list[dict[str, str]] = []
    round_no = 0
    while len(stream) < total:
        round_no += 1
        for events in recordings:
            for event in events:
                if event.get("Event") == "FullyBooted":
                    continue
                copy = dict(event)
                for key in _IDS:
                    if copy.get(key):
                        copy[key] = f"{copy[key]}-r{round_no}"
                stream.append(copy)
                if len(stream) == total:
                    return stream
    return stream


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_simulator(trace: Path, port: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "daemon.cli",
        "pbx-sim",
        "--replay",
        str(trace),
        "--port",
        str(port),
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "CENTRALITA_LOGGING__LEVEL": "WARNING"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    while True:
        line = await proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulator did not start")
        if b"replaying" in line:
            return proc


async def bare_panoramisk(port: int, total: int) -> float:
    done = asyncio.Event()
    marks: list[float] = []
    count = 0

    def on_any(_manager: Manager, _event: object) -> None:
        nonlocal count
        count += 1
        if count == 1:
            marks.append(time.perf_counter())
        if count == total:
            marks.append(time.perf_counter())
            done.set()

    manager = Manager(
        host="127.0.0.1",
        port=port,
        username="crm",
        secret="crm-secret",
        loop=asyncio.get_running_loop(),
        ping_delay=3600,
        ping_interval=3600,
    )
    manager.register_event("*", on_any)
    await manager.connect()
    try:
        await asyncio.wait_for(done.wait(), 300)
    finally:
        manager.connection_lost = lambda exc: None
        manager.close()
    return total / (marks[1] - marks[0])


async def our_link(port: int, total: int, with_tracker: bool) -> tuple[float, int]:
    done = asyncio.Event()
    marks: list[float] = []
    tracker = CallTracker(agent_channel="SIP/{extension}")
    transitions = 0
    count = 0

    async def on_event(event: dict[str, str]) -> None:
        nonlocal count, transitions
        count += 1
        if count == 1:
            marks.append(time.perf_counter())
        if with_tracker:
            transitions += len(tracker.feed(event))
        if count == total:
            marks.append(time.perf_counter())
            done.set()

    async def on_resync(channels: list[dict[str, str]]) -> None:
        tracker.resync(channels)

    settings = AmiSettings(host="127.0.0.1", port=port, username="crm", secret="crm-secret")
    link = AmiLink(settings, on_event, on_resync)
    await link.start()
    try:
        await asyncio.wait_for(done.wait(), 300)
    finally:
        await link.stop()
    return total / (marks[1] - marks[0]), transitions


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each; the median is kept")
    args = parser.parse_args()
    stream = build_stream(args.events)
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "stream.json"
        trace.write_text(json.dumps(stream))
        port = free_port()
        sim = await start_simulator(trace, port)
        try:
            # +1: our login's FullyBooted comes first on every connection.
            total = len(stream) + 1
            bare, ours, ours_tracked = [], [], []
            transitions = 0
            for _ in range(args.rounds):
                bare.append(await bare_panoramisk(port, total))
                ours.append((await our_link(port, total, with_tracker=False))[0])
                rate, transitions = await our_link(port, total, with_tracker=True)
                ours_tracked.append(rate)
        finally:
            sim.terminate()
            await sim.wait()
    b, o, t = (statistics.median(x) for x in (bare, ours, ours_tracked))
    print(f"stream: {len(stream):,} events from the cacofonisk recordings, over TCP")
    print(f"bare panoramisk Manager, catch-all handler: {b:10,.0f} events/s  (the limit)")
    print(f"AmiLink alone:                              {o:10,.0f} events/s  ratio {o / b:.2f}")
    print(
        f"AmiLink + CallTracker:                      {t:10,.0f} events/s  ratio {t / b:.2f}"
        f"  ({transitions:,} call transitions)"
    )
    print("target: ratio >= 0.8 and >= 20,000 events/s (link + tracker)")


if __name__ == "__main__":
    asyncio.run(main())
