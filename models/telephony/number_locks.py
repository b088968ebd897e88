"""Per-number locks shared by call recording and SMS matching (one auto-lead per number).

A lock lives while someone holds or waits for it (a reference count, not `locked()`: between
a release and the next waiter waking up the lock looks free, and dropping it then would let
a newcomer take a fresh lock while the waiter still goes ahead with the old one).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager


class NumberLocks:
    """Named asyncio locks created on demand and forgotten once nobody uses them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def _take(self, key: str) -> asyncio.Lock:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        return lock

    def _drop(self, key: str) -> None:
        lock, users = self._locks[key]
        if users <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)

    @asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        """Hold the locks of all these keys, taken in sorted order so that two holders of
        overlapping sets can never wait on each other."""
        ordered = sorted(set(keys))
        locks = [self._take(key) for key in ordered]
        acquired: list[asyncio.Lock] = []
        try:
            for lock in locks:
                await lock.acquire()
                acquired.append(lock)
            yield
        finally:
            for lock in reversed(acquired):
                lock.release()
            for key in ordered:
                self._drop(key)

    def users(self, key: str) -> int:
        """How many hold or wait for this key's lock."""
        return self._locks.get(key, (None, 0))[1]

    def __len__(self) -> int:
        return len(self._locks)
