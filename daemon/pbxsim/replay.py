"""Replay of a recorded AMI session (raw ``.ami`` text or cacofonisk JSON) to a live client.

The simulator answers the login itself; then the recording's events are streamed, once the
client has taken its CoreShowChannels snapshot (a CRM resyncs right after login, and a
snapshot taken mid-replay would contradict the recording), or after a short grace period
for clients that never ask. Paced by the events' ``Timestamp`` when a speed is given.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from daemon.ami.traces import load_events
from daemon.ami.wire import encode

# Our own login already sends FullyBooted; the recording's login is not replayed.
_SKIPPED = frozenset({"FullyBooted", "SuccessfulAuth"})
_BATCH = 256


class Trace:
    """A recorded event stream, encoded once, served to any number of clients."""

    def __init__(self, events: list[dict[str, str]], *, paced: bool = False, grace: float = 0.5):
        kept = [e for e in events if e.get("Event") not in _SKIPPED]
        self.wire = [encode(e) for e in kept]
        self.times = [_timestamp(e) for e in kept]
        self.paced = paced
        self.grace = grace

    @classmethod
    def load(cls, path: str | Path, **options: object) -> Trace:
        return cls(load_events(path), **options)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.wire)

    async def stream(
        self, writer: asyncio.StreamWriter, resynced: asyncio.Event, speed: float
    ) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(resynced.wait(), self.grace)
        batch: list[bytes] = []
        previous: float | None = None
        for data, at in zip(self.wire, self.times, strict=True):
            if self.paced and at is not None:
                if previous is not None and at > previous:
                    writer.write(b"".join(batch))
                    batch.clear()
                    await writer.drain()
                    await asyncio.sleep((at - previous) / speed)
                previous = at
            batch.append(data)
            if len(batch) >= _BATCH:
                writer.write(b"".join(batch))
                batch.clear()
                await writer.drain()
        writer.write(b"".join(batch))
        await writer.drain()


def _timestamp(event: dict[str, str]) -> float | None:
    try:
        return float(event["Timestamp"])
    except (KeyError, ValueError):
        return None
