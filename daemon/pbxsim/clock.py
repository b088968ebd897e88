"""The simulator's time: real, or scaled so that a 30 s call lasts 0.3 s in a test."""

from __future__ import annotations

import asyncio
import time


class SimClock:
    """Seconds of simulated time pass ``speed`` times faster than real ones."""

    def __init__(self, speed: float = 1.0, *, start_epoch: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._epoch0 = time.time() if start_epoch is None else start_epoch
        self._mono0 = time.monotonic()

    def epoch(self) -> float:
        """Simulated seconds since 1970 (what Asterisk puts in Timestamp and Uniqueid)."""
        return self._epoch0 + (time.monotonic() - self._mono0) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0) / self.speed)
