"""Shared fixtures: a real database (SQLite or PostgreSQL) and a small named world.

The database is chosen by CENTRALITA_TEST_DB: unset or "sqlite" for a SQLite file, or a
PostgreSQL URL (postgres://postgres@127.0.0.1:5432/test). For PostgreSQL a database of
its own is created for the session (so parallel runs never collide) and dropped at the end.
Migrations run once per session; every test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from unittest.mock import patch

import asyncpg
import pytest
from tortoise import Tortoise, connections

from models.core.clock import FixedClock
from models.core.db import close_db, open_db
from models.core.hub import Hub
from models.people import users as user_ops
from models.schema.company import Company, SourceTag, TelephonySettings
from models.schema.users import User


def _pg_admin_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@pytest.fixture(scope="session")
async def db_url(tmp_path_factory):
    choice = os.environ.get("CENTRALITA_TEST_DB", "sqlite")
    if choice == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield f"sqlite://{path}"
        return
    base = choice.rsplit("/", 1)[0]
    name = f"centralita_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(_pg_admin_dsn(choice))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield f"{base}/{name}"
    admin = await asyncpg.connect(_pg_admin_dsn(choice))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def database(db_url):
    await open_db(db_url)
    yield db_url
    await close_db()


def _tables() -> list[str]:
    names: set[str] = set()
    for model in Tortoise.apps["crm"].values():
        names.add(model._meta.db_table)
        for field_name in model._meta.m2m_fields:
            names.add(model._meta.fields_map[field_name].through)
    return sorted(names)


_PG_USED: list[str] = []


async def _pg_used_tables(conn) -> list[str]:
    """The tables a test may have written: those holding rows, and those whose id sequence
    was used since the last wipe (rows inserted, then deleted). One query."""
    if not _PG_USED:
        parts = [f"SELECT '{t}' AS t WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in _tables()]
        parts.append(
            "SELECT c.relname AS t FROM pg_sequences s "
            "JOIN pg_class q ON q.relname = s.sequencename AND q.relkind = 'S' "
            "JOIN pg_depend d ON d.objid = q.oid AND d.deptype IN ('a', 'i') "
            "JOIN pg_class c ON c.oid = d.refobjid "
            "WHERE s.schemaname = current_schema() AND s.last_value IS NOT NULL"
        )
        _PG_USED.append(" UNION ".join(parts))
    ours = set(_tables())  # not the migrations' own record, whose sequence is used too
    return [row["t"] for row in await conn.execute_query_dict(_PG_USED[0]) if row["t"] in ours]


async def _pg_wipe(conn) -> None:
    """TRUNCATE only what the test wrote: TRUNCATE of all 50 tables took 100-200 ms a test
    (new files for each table), minutes over the suite. TRUNCATE rather than DELETE: a table
    emptied by DELETE reuses its free space, so rows read without ORDER BY come back in
    another order than they were written, and a test comparing two runs sees a difference."""
    used = await _pg_used_tables(conn)
    if used:
        quoted = ", ".join(f'"{t}"' for t in sorted(set(used)))
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")


async def truncate_all() -> None:
    conn = connections.get("default")
    tables = _tables()
    if conn.capabilities.dialect == "postgres":
        await _pg_wipe(conn)
    else:
        script = ["PRAGMA foreign_keys=OFF;"]
        script += [f'DELETE FROM "{t}";' for t in tables]
        script += ["DELETE FROM sqlite_sequence;", "PRAGMA foreign_keys=ON;"]
        await conn.execute_script("\n".join(script))


@pytest.fixture
async def db(database):
    """An empty, migrated database for one test."""
    await truncate_all()
    yield database
    _no_background_work_left()


# Background tasks that act on the whole database: one a test leaves running goes on
# acting on the next tests' data (a lease watch once failed a later test's import).
DATABASE_WIDE_TASKS = ("import-leases",)


def _no_background_work_left() -> None:
    left = [t for t in asyncio.all_tasks() if t.get_name() in DATABASE_WIDE_TASKS]
    for task in left:
        task.cancel()
    names = [t.get_name() for t in left]
    assert not left, f"the test left {names} running: close what it started"


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))  # a Wednesday


@pytest.fixture
async def hub():
    h = Hub()
    yield h
    await h.close()


@dataclass
class World:
    """The small named world most tests use."""

    company: Company
    ana: User  # admin, extension 100
    luis: User  # agent, extension 101
    marta: User  # agent, extension 102
    did_tag: SourceTag  # tracking number 900100200 -> "Google Ads"
    password: str = "secret-pass-1"


@pytest.fixture(scope="session")
def world_password_hash() -> str:
    """One argon2 hash of the world's password for the session: hashing it (tens of
    milliseconds of CPU on purpose) three times per test cost minutes over the suite."""
    return user_ops.hash_password(World.password)


@pytest.fixture
async def world(db, world_password_hash) -> World:
    await user_ops.ensure_standard_groups()
    company = await Company.create(
        name="Acme Telecom", default_currency="EUR", extra_currencies=["USD"], default_region="ES"
    )
    await TelephonySettings.create()
    pw = World.password
    hashed = user_ops._hashed

    async def known_hash(password: str) -> str:
        return world_password_hash if password == pw else await hashed(password)

    with patch.object(user_ops, "_hashed", known_hash):
        ana = await user_ops.create_user(
            "ana", pw, group_name="Admin", extension="100", full_name="Ana García"
        )
        luis = await user_ops.create_user("luis", pw, extension="101", full_name="Luis Pérez")
        marta = await user_ops.create_user("marta", pw, extension="102", full_name="Marta Núñez")
    for u in (ana, luis, marta):
        await u.fetch_related("group")
    tag = await SourceTag.create(name="Google Ads", did="+34900100200")
    return World(company=company, ana=ana, luis=luis, marta=marta, did_tag=tag, password=pw)


@pytest.fixture(scope="session")
def dovecot():
    """A real Dovecot IMAP server (tests/dovecot.py) shared by the session; each test takes its
    own users with `dovecot.new_user()`."""
    from tests.dovecot import dovecot_installed, start_dovecot

    if not dovecot_installed():
        pytest.fail("Dovecot is not installed: scripts/setup --test installs it")
    server = start_dovecot()
    yield server
    server.cleanup()


def pytest_collection_modifyitems(config, items):
    """The SQLite pass leaves out the tests marked `postgres_only` (they use PostgreSQL
    whatever the pass, or test what only PostgreSQL does): they run once, in the PostgreSQL
    pass, which CI requires."""
    if os.environ.get("CENTRALITA_TEST_DB", "sqlite").startswith("postgres"):
        return
    elsewhere = [item for item in items if item.get_closest_marker("postgres_only")]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]
