"""Events per second of the call tracker alone (no socket, no database).

The 51 cacofonisk recordings are repeated, each copy with its Uniqueids, Linkedids,
bridge ids and Local channel names rewritten so that every copy is a call of its own,
until there are 100,000 events. Copies are interleaved (by default 50 at a time) so the
tracker holds many calls at once, as on a busy PBX.

    python bench/bench_tracker.py [--events 100000] [--concurrent 50]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from daemon.ami.traces import load_events  # noqa: E402
from daemon.ami.tracker import CallTracker  # noqa: E402
from daemon.ami.tracker_types import ChannelRoles, Ended  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "cacofonisk-traces"
DEVICES = {
    "SIP/150010001": "201",
    "SIP/150010002": "202",
    "SIP/150010003": "203",
    "SIP/150010004": "204",
    "SIP/260010001": "201",
    "SIP/100060001": "201",
    "SIP/100060002": "202",
    "SIP/150010063": "2401",
}
_LOCAL_SEQ = re.compile(r"^(Local/.*-[0-9a-f]+)(;[12])$")


def _rewrite(event: dict[str, str], copy: int) -> dict[str, str]:
    tag = format(copy, "x")
    out = {}
    for key, value in event.items():
        if key.endswith(("Uniqueid", "Linkedid", "BridgeId")) and value:
            value = f"{value}-{tag}"
        elif key.endswith("Channel") and value.startswith("Local/"):
            value = _LOCAL_SEQ.sub(rf"\g<1>{tag}\2", value)
        out[key] = value
    return out


def build_stream(total: int, concurrent: int) -> list[dict[str, str]]:
    recordings = [load_events(p) for p in sorted(CORPUS.glob("*/*.json"))]
    copies: list[list[dict[str, str]]] = []
    count = 0
    n = 0
    while count < total:
        events = [_rewrite(e, n) for e in recordings[n % len(recordings)]]
        copies.append(events)
        count += len(events)
        n += 1
    stream: list[dict[str, str]] = []
    for start in range(0, len(copies), concurrent):
        batch = [iter(c) for c in copies[start : start + concurrent]]
        while batch:
            alive = []
            for it in batch:
                event = next(it, None)
                if event is not None:
                    stream.append(event)
                    alive.append(it)
            batch = alive
    return stream[:total]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    stream = build_stream(args.events, args.concurrent)
    best = 0.0
    for _ in range(args.rounds):
        tracker = CallTracker(roles=ChannelRoles(agent_channels=(), devices=DEVICES))
        feed = tracker.feed
        ended = 0
        started = time.perf_counter()
        for event in stream:
            for transition in feed(event):
                if type(transition) is Ended:
                    ended += 1
        elapsed = time.perf_counter() - started
        best = max(best, len(stream) / elapsed)
        print(
            f"{len(stream)} events in {elapsed:.3f} s: {len(stream) / elapsed:,.0f} events/s, "
            f"{ended} calls ended, {tracker.live_calls} still live"
        )
    print(f"best: {best:,.0f} events/s (tracker alone, {args.concurrent} calls interleaved)")


if __name__ == "__main__":
    main()
