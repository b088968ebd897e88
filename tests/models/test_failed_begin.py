"""A transaction whose BEGIN fails (PostgreSQL restarting under a pooled connection) leaves
the task able to use the database, gives its connection back and holds no lock
(models/core/postgres_client.py, models/core/sqlite_client.py). Before, on PostgreSQL, the
Telegram notifier never notified again after one restart of the server."""

from __future__ import annotations

import asyncio

import pytest
from asyncpg.exceptions import InterfaceError
from tortoise import connections
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from models.schema.company import Company

FAILED_BEGINS = 40  # more than the pool holds: a connection kept by each would exhaust it


def _wrapper_class() -> type:
    context = connections.get("default")._in_transaction()
    return type(getattr(context, "client", None) or context.connection)


async def test_a_transaction_that_fails_to_begin_leaves_the_task_working(db, monkeypatch):
    wrapper = _wrapper_class()
    original = wrapper.begin

    async def dead_connection(self):
        raise OperationalError("connection was closed in the middle of operation")

    monkeypatch.setattr(wrapper, "begin", dead_connection)
    for _ in range(FAILED_BEGINS):
        with pytest.raises(OperationalError):
            async with in_transaction():
                pass
        assert not isinstance(connections.get("default"), wrapper)  # the task's own again
    monkeypatch.setattr(wrapper, "begin", original)

    async def work() -> None:
        async with in_transaction():
            await Company.create(name="Acme")
        assert await Company.filter(name="Acme").count() == 1

    await asyncio.wait_for(work(), 20)  # no lock or pooled connection left held


@pytest.mark.postgres_only  # SQLite: one connection, no pool to give it back to
async def test_a_commit_the_server_drops_leaves_the_task_working(db, monkeypatch):
    """COMMIT fails and the pool cannot take the connection back either (PostgreSQL shutting
    down mid-commit): the task's own connection is restored all the same."""
    wrapper = _wrapper_class()
    pool = connections.get("default")._pool
    give_back = type(pool).release

    async def dropped(self):
        raise OperationalError("connection was closed in the middle of operation")

    async def release_fails(self, connection, *args, **kwargs):
        await give_back(self, connection, *args, **kwargs)
        raise InterfaceError("cannot switch to state 15; another operation is in progress")

    monkeypatch.setattr(wrapper, "commit", dropped)
    monkeypatch.setattr(type(pool), "release", release_fails)
    with pytest.raises((OperationalError, InterfaceError)):
        async with in_transaction():
            await Company.create(name="Lost")
    monkeypatch.undo()
    assert not isinstance(connections.get("default"), wrapper)  # the task's own again

    async def work() -> None:
        async with in_transaction():
            await Company.create(name="Acme")
        assert await Company.filter(name="Acme").count() == 1

    await asyncio.wait_for(work(), 20)
