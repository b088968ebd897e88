"""Tortoise's PostgreSQL (asyncpg) client, made to survive a transaction that cannot begin.

Tortoise's pooled transaction context takes a connection from the pool, binds the transaction
to the current task (a context variable) and then sends BEGIN. When BEGIN fails (PostgreSQL
restarted: the pooled connection is dead, or the server is shutting down) its `__aexit__`
never runs, so the task keeps the dead transaction as its connection (every later query and
transaction of that task fails with "connection is closed") and the pooled connection is
never given back. A hub consumer lives as long as the process: the Telegram notifier stopped
notifying after one PostgreSQL restart (bench/faults.py pg-restart; Tortoise ORM 1.1.9).

Here a failed BEGIN restores the task's connection and gives the pooled one back (the pool
replaces a dead one), and the error stays the driver's, which
`models.core.db.is_database_busy` recognises. `models.core.sqlite_client` does the same for
SQLite's one connection and its lock.
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


class ReleasingAsyncpgClient(AsyncpgDBClient):
    """`AsyncpgDBClient` whose transactions undo themselves when BEGIN fails."""

    def _in_transaction(self) -> TransactionContext:
        return _ReleasingPooledContext(TransactionWrapper(self), self._pool_init_lock)


client_class = ReleasingAsyncpgClient


def get_client_class(db_info: dict[str, Any]) -> type[AsyncpgDBClient]:
    return ReleasingAsyncpgClient
