"""The simulator's time: real, or scaled so that a 30 s call lasts 0.3 s in a test.

Scripted durations must come out exact in the events' Timestamps whatever the machine's
load: at speed 200, a wake-up 15 ms late would otherwise add 3 s to a call. So the clock
runs at `speed` times real time, but never past the earliest pending sleep's end (events
sent while that sleeper is late are stamped no later than its end), and the time a
sleeper lost to a late wake-up is taken off the clock.
"""

from __future__ import annotations

import asyncio
import bisect
import time


class SimClock:
    """Seconds of simulated time pass ``speed`` times faster than real ones."""

    def __init__(self, speed: float = 1.0, *, start_epoch: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._epoch0 = time.time() if start_epoch is None else start_epoch
        self._mono0 = time.monotonic()
        self._lag = 0.0  # simulated seconds lost to late wake-ups
        self._now = self._epoch0
        self._pending: list[float] = []  # ends of the sleeps in progress, sorted

    def _running(self) -> float:
        return self._epoch0 + (time.monotonic() - self._mono0) * self.speed - self._lag

    def epoch(self) -> float:
        """Simulated seconds since 1970 (what Asterisk puts in Timestamp and Uniqueid)."""
        now = self._running()
        if self._pending and now > self._pending[0]:
            now = self._pending[0]
        if now > self._now:
            self._now = now
        return self._now

    async def sleep(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        end = self.epoch() + seconds
        bisect.insort(self._pending, end)
        try:
            await asyncio.sleep(seconds / self.speed)
        finally:
            self._pending.remove(end)
        late = self._running() - end
        if late > 0:
            self._lag += late
        if end > self._now:
            self._now = end
