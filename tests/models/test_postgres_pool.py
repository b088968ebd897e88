"""The PostgreSQL pool of a process (models/core/db.py, models/core/postgres_client.py)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from models.core.db import POSTGRES_POOL_SIZE, tortoise_config
from models.schema.company import Company

pytestmark = pytest.mark.postgres_only  # SQLite has one connection and no pool

LOCK_KEY = 4_210_977


async def _blocked_on(admin: asyncpg.Connection, count: int, deadline: float) -> int:
    """How many backends wait on our advisory lock, once `count` do or the deadline passes."""
    seen = 0
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        seen = await admin.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND objid = $1",
            LOCK_KEY,
        )
        if seen >= count:
            return seen
        await asyncio.sleep(0.05)
    return seen


async def test_many_queries_at_once_each_get_a_connection(db, db_url):
    """Twelve queries at once run side by side (asyncpg's pool under Tortoise held five, so
    under load pages, caller cards and the outbox queued for a connection)."""
    at_once = 12
    assert POSTGRES_POOL_SIZE >= at_once
    admin = await asyncpg.connect(db_url.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)

        async def wait_for_lock() -> None:
            async with in_transaction() as conn:
                await conn.execute_query("SELECT pg_advisory_xact_lock_shared($1)", [LOCK_KEY])

        waiting = [asyncio.create_task(wait_for_lock()) for _ in range(at_once)]
        deadline = asyncio.get_running_loop().time() + 15
        blocked = await _blocked_on(admin, at_once, deadline)
        await admin.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
        await asyncio.wait_for(asyncio.gather(*waiting), 15)
    finally:
        await admin.close()
    assert blocked == at_once


def test_the_url_still_decides_the_pool_size():
    credentials = tortoise_config("postgres://crm@db.example:5432/crm?maxsize=7")["connections"][
        "default"
    ]["credentials"]
    assert int(credentials["maxsize"]) == 7


async def test_a_connection_given_back_mid_transaction_is_rolled_back(db):
    """Without asyncpg's reset query a connection still goes back clean: a transaction left
    open on it is rolled back, so what it did is undone and the next query is not inside it."""
    pool = connections.get("default")._pool
    raw = await pool.acquire()
    await raw.execute("BEGIN")
    await raw.execute("CREATE TABLE pool_probe (x int)")
    await pool.release(raw)
    conn = connections.get("default")
    for _ in range(POSTGRES_POOL_SIZE):  # whichever pooled connection answers
        rows = await conn.execute_query_dict("SELECT to_regclass('pool_probe') AS found")
        assert rows == [{"found": None}]
    async with in_transaction():
        await Company.create(name="Acme")
    assert await Company.filter(name="Acme").count() == 1
