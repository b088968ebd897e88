"""Another program holding the database, for the tests of what a busy database does.

On SQLite a separate sqlite3 connection in a thread holds ``BEGIN EXCLUSIVE`` (writers of
every other connection wait, then get "database is locked"); on PostgreSQL, which has no file
lock, a separate connection holds ``LOCK TABLE ... IN ACCESS EXCLUSIVE MODE`` on the named
tables. Either is held until the test calls `release()`: an explicit signal, never a timer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator

import asyncpg
import pytest
from tortoise import connections

from models.core.db import DEFAULT_BUSY_TIMEOUT

# How long our own SQLite writes wait for the lock in these tests (the product waits 30 s):
# short, so that a test sees what happens when the wait runs out.
SHORT_WAIT_MS = 150


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite://")


class DatabaseLock:
    """Holds the database (SQLite) or some tables (PostgreSQL) from another connection."""

    def __init__(self, url: str, tables: tuple[str, ...]) -> None:
        self.url = url
        self.tables = tables
        self._release = threading.Event()
        self._thread: threading.Thread | None = None
        self._pg: asyncpg.Connection | None = None
        self.taken = asyncio.Event()  # set once the lock is held

    async def take(self) -> None:
        if is_sqlite(self.url):
            held = threading.Event()
            failed: list[BaseException] = []
            self._thread = threading.Thread(
                target=self._hold_sqlite, args=(held, failed), name="db-lock"
            )
            self._thread.start()
            await asyncio.to_thread(held.wait)
            if failed:
                raise failed[0]
            self.taken.set()
            return
        self._pg = await asyncpg.connect(self.url.replace("postgres://", "postgresql://", 1))
        await self._pg.execute("BEGIN")
        quoted = ", ".join(f'"{t}"' for t in self.tables)
        await self._pg.execute(f"LOCK TABLE {quoted} IN ACCESS EXCLUSIVE MODE")
        self.taken.set()

    def _hold_sqlite(self, held: threading.Event, failed: list[BaseException]) -> None:
        conn = sqlite3.connect(self.url[len("sqlite://") :], isolation_level=None)
        try:
            conn.execute("BEGIN EXCLUSIVE")
        except BaseException as err:
            failed.append(err)
            held.set()
            conn.close()
            return
        held.set()
        self._release.wait()
        conn.execute("ROLLBACK")
        conn.close()

    async def waiters(self) -> list[int]:
        """PostgreSQL: the backends waiting for our locks (an attempted write)."""
        assert self._pg is not None
        rows = await self._pg.fetch(
            "SELECT DISTINCT pid FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
        )
        return [row["pid"] for row in rows]

    async def wait_for_writer(self) -> list[int]:
        """PostgreSQL: wait until a write of ours is waiting for the lock; its backends."""
        async with asyncio.timeout(10):
            await self.taken.wait()
            while not (pids := await self.waiters()):  # noqa: ASYNC110 - polling the server
                await asyncio.sleep(0.02)
        return pids

    async def cancel_backend(self, pid: int) -> None:
        """PostgreSQL: end a backend's wait for our lock, as a lock_timeout would."""
        assert self._pg is not None
        await self._pg.execute("SELECT pg_cancel_backend($1)", pid)

    async def release(self) -> None:
        if self._thread is not None:
            self._release.set()
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        if self._pg is not None:
            await self._pg.execute("ROLLBACK")
            await self._pg.close()
            self._pg = None


async def _set_busy_timeout(milliseconds: int) -> None:
    await connections.get("default").execute_script(f"PRAGMA busy_timeout={milliseconds}")


@pytest.fixture
async def short_busy_wait(db) -> AsyncIterator[str]:
    """SQLite: our writes wait SHORT_WAIT_MS for a lock (then fail as past the busy timeout).
    PostgreSQL waits for a lock as long as it is held, as in production. Yields the URL."""
    if is_sqlite(db):
        await _set_busy_timeout(SHORT_WAIT_MS)
    yield db
    if is_sqlite(db):
        await _set_busy_timeout(round(DEFAULT_BUSY_TIMEOUT * 1000))


@pytest.fixture
async def lock_calls(short_busy_wait) -> AsyncIterator[DatabaseLock]:
    lock = DatabaseLock(short_busy_wait, ("call", "lead", "client", "phone", "timeline_entry"))
    yield lock
    await lock.release()
