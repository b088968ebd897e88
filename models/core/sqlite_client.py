"""Tortoise's SQLite client, made to wait for a database another process holds.

Two changes, both about a lock held elsewhere (a second process, a backup, an import run from
the command line):

* every connection sets ``PRAGMA busy_timeout``, so a statement that finds the database locked
  waits for it (up to ``[database] busy_timeout_seconds``) instead of failing at once;
* a transaction starts with ``BEGIN IMMEDIATE``. SQLite calls its busy handler only when a
  connection holds no transaction yet: a plain (deferred) transaction that read first and then
  finds the write lock taken fails with "database is locked" at once, whatever the timeout.
  Taking the write lock at BEGIN makes the wait happen there. This process writes through one
  connection, one transaction at a time, so nothing of ours waits longer for it.

When the wait runs out, the transaction that could not begin gives its lock on our one
connection back (Tortoise's own context keeps it, and every later query would wait forever),
and the error stays Tortoise's ``OperationalError`` ("database is locked"),
which `models.core.db.is_database_busy` recognises.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import OperationalError


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # locked past the busy timeout
            raise OperationalError(exc) from exc


class _ReleasingTransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection  # type: ignore[no-any-return]


class WaitingSqliteClient(SqliteClient):
    """`SqliteClient` whose transactions wait for the write lock (see the module's text)."""

    def _in_transaction(self) -> TransactionContext:
        return _ReleasingTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = WaitingSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return WaitingSqliteClient
