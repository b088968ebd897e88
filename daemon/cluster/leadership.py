"""One leader among the instances sharing a PostgreSQL database (X4).

The leader holds a session-level advisory lock on a connection of its own. The others wait
on the same lock (`pg_advisory_lock` blocks until it is free), so when the leader dies its
connection closes, PostgreSQL releases the lock and one waiting instance gets it at once.
The leader checks its connection every `check_seconds`; when the check fails it steps down
(stops its leader parts) before anyone else can take over, and queues for the lock again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

logger = logging.getLogger(__name__)

# pg_advisory_lock's key: any 64-bit number no other program on the database uses.
LEADER_KEY = 0x43454E5452414C49  # "CENTRALI"
RETRY_SECONDS = 1.0

Hook = Callable[[], Awaitable[None]]


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


class Leadership:
    """Runs `on_elected` when this instance becomes the leader and `on_deposed` when it stops
    being one (its database connection failed, or `stop`)."""

    def __init__(
        self,
        url: str,
        on_elected: Hook,
        on_deposed: Hook,
        *,
        check_seconds: float = 1.0,
        key: int = LEADER_KEY,
    ) -> None:
        self._dsn = asyncpg_dsn(url)
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._check = check_seconds
        self._key = key
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False
        self.terms = 0  # times this instance was elected
        self._changed = asyncio.Condition()

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="leadership")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_until_leader(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.is_leader)

    async def _run(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn, timeout=10)
                await conn.execute("SELECT pg_advisory_lock($1)", self._key)
                await self._elected()
                while True:
                    await asyncio.sleep(self._check)
                    await asyncio.wait_for(conn.fetchval("SELECT 1"), self._check * 2)
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
                logger.warning(
                    "leadership: database connection lost (%s)", err or type(err).__name__
                )
            finally:
                await asyncio.shield(self._deposed())
                if conn is not None:
                    conn.terminate()  # no goodbye: the lock goes with the session
            await asyncio.sleep(RETRY_SECONDS)

    async def _elected(self) -> None:
        self.terms += 1
        logger.info("leadership: this instance is the leader (term %d)", self.terms)
        self.is_leader = True
        async with self._changed:
            self._changed.notify_all()
        await self._on_elected()

    async def _deposed(self) -> None:
        if not self.is_leader:
            return
        self.is_leader = False
        logger.warning("leadership: this instance is no longer the leader")
        try:
            await self._on_deposed()
        except Exception:
            logger.exception("leadership: stopping the leader's parts failed")
        async with self._changed:
            self._changed.notify_all()
