"""Tortoise's PostgreSQL (asyncpg) client, made to survive a transaction the server drops.

Tortoise's pooled transaction context takes a connection from the pool, binds the transaction
to the current task (a context variable) and then sends BEGIN. When BEGIN fails (PostgreSQL
restarted: the pooled connection is dead, or the server is shutting down) its `__aexit__`
never runs, so the task keeps the dead transaction as its connection (every later query and
transaction of that task fails with "connection is closed") and the pooled connection is
never given back. The same happens when COMMIT fails and giving the connection back to the
pool fails too (its `__aexit__` restores the task's connection last). A hub consumer lives
as long as the process: the Telegram notifier stopped notifying after one PostgreSQL restart
(bench/faults.py pg-restart; Tortoise ORM 1.1.9).

Here a failed BEGIN restores the task's connection and gives the pooled one back (the pool
replaces a dead one), the end of a transaction restores it whatever fails, and the error
stays the driver's, which `models.core.db.is_database_busy` recognises.
`models.core.sqlite_client` does the same for SQLite's one connection and its lock.

It also gives a connection back to the pool without asyncpg's reset query (`SELECT
pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`). Tortoise takes a connection for
each query outside a transaction, so that reset was a second round trip for every query (7 % of
a loaded instance's event loop, bench/load.py). Nothing of ours leaves session state on a
pooled connection: locks are `pg_advisory_xact_lock`, settings `SET LOCAL`, and LISTEN and the
leader's lock have connections of their own. An open transaction is still rolled back
(asyncpg does that before calling the pool's `reset`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    TransactionalDBClient,
    TransactionContext,
    TransactionContextPooled,
)
from tortoise.connection import get_connections


class _ReleasingPooledContext(TransactionContextPooled):
    async def __aenter__(self) -> TransactionalDBClient:
        await self.ensure_connection()
        pool = self.client._parent._pool
        self.client._connection = await pool.acquire()
        try:
            self.token = get_connections().set(self.connection_name, self.client)
            try:
                await self.client.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            with contextlib.suppress(Exception):  # a dead connection: the pool replaces it
                await pool.release(self.client._connection)
            raise
        return self.client

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        # Tortoise gives the connection back before it restores the task's: when giving back
        # fails (a connection the server dropped mid-commit), the task kept the dead one.
        try:
            await super().__aexit__(exc_type, exc_val, exc_tb)
        finally:
            if not self.token._used:
                get_connections().reset(self.token)


async def _keep_session(connection: Any) -> None:
    """The pool's `reset`: nothing beyond asyncpg's own rollback of an open transaction."""


class ReleasingAsyncpgClient(AsyncpgDBClient):
    """`AsyncpgDBClient` whose transactions undo themselves when BEGIN fails, and whose pool
    gives connections back without a reset round trip."""

    async def create_pool(self, **kwargs: Any) -> Any:
        kwargs.setdefault("reset", _keep_session)
        return await super().create_pool(**kwargs)

    def _in_transaction(self) -> TransactionContext:
        return _ReleasingPooledContext(TransactionWrapper(self), self._pool_init_lock)


client_class = ReleasingAsyncpgClient


def get_client_class(db_info: dict[str, Any]) -> type[AsyncpgDBClient]:
    return ReleasingAsyncpgClient
