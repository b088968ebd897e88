"""Opening the database and applying the schema migrations."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError
from tortoise.migrations.api import migrate as migrate_api

from models.schema import MODEL_MODULES

logger = logging.getLogger(__name__)

T = TypeVar("T")

APP_LABEL = "crm"
# How long a write waits for a SQLite database another process holds ([database]
# busy_timeout_seconds): an import from the command line holds it for about a second a chunk.
DEFAULT_BUSY_TIMEOUT = 30.0


# Connections each process may open to PostgreSQL (opened as needed, from one).
POSTGRES_POOL_SIZE = 20


def tortoise_config(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> dict[str, Any]:
    """The Tortoise configuration for a database URL (sqlite://PATH or postgres://...).

    SQLite goes through `models.core.sqlite_client`: writes wait up to `busy_timeout` seconds
    for a lock held by another process. PostgreSQL waits for row and table locks by itself;
    it goes through `models.core.postgres_client` (a transaction that cannot begin, the server
    restarting, leaves the task and the pool as they were).
    """
    connection: str | dict[str, Any] = url
    if url.startswith("sqlite://"):
        connection = expand_db_url(url)
        connection["engine"] = "models.core.sqlite_client"
        connection["credentials"]["busy_timeout"] = max(0, round(busy_timeout * 1000))
    elif url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        connection = expand_db_url(url)
        connection["engine"] = "models.core.postgres_client"
        # asyncpg's pool under Tortoise holds 5 connections by default: under load pages, the
        # caller-card lookups of a burst of calls, the store lanes and the outbox queued for
        # them (bench/load.py). `?maxsize=N` in the URL still decides.
        connection["credentials"].setdefault("maxsize", POSTGRES_POOL_SIZE)
    return {
        "connections": {"default": connection},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def tortoise_config_for_cli() -> dict[str, Any]:
    """Config used by ``tortoise makemigrations`` (developers only): an in-memory SQLite."""
    return tortoise_config("sqlite://:memory:")


TORTOISE_ORM = tortoise_config_for_cli()


async def migrate(
    url: str, target: str | None = None, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> list[str]:
    """Apply pending migrations (up to `target`, a migration name, when given).

    Returns the names applied.
    """
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(name)
            logger.info("applied migration %s.%s", app_label, name)

    await migrate_api(
        config=tortoise_config(url, busy_timeout=busy_timeout),
        target=f"{APP_LABEL}.{target}" if target else None,
        progress=progress,
    )
    await Tortoise.close_connections()
    return applied


async def open_db(
    url: str, *, run_migrations: bool = True, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> list[str]:
    """Open the database for the process, applying pending migrations first.

    `busy_timeout`: seconds a SQLite write waits for a lock another process holds.
    """
    applied = await migrate(url, busy_timeout=busy_timeout) if run_migrations else []
    await Tortoise.init(config=tortoise_config(url, busy_timeout=busy_timeout))
    return applied


async def close_db() -> None:
    await connections.close_all()


async def ping() -> bool:
    """True when the database answers a trivial query."""
    conn = connections.get("default")
    await conn.execute_query("SELECT 1")
    return True


# What SQLite and PostgreSQL say when the database is held by someone else or unreachable.
_BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")
# 57P01/57P02: the server was shut down or crashed (a restart, pg_terminate_backend).
_BUSY_SQLSTATES = frozenset(
    {"55P03", "57014", "08000", "08003", "08006", "57P01", "57P02", "57P03", "40P01"}
)
# asyncpg's errors of a connection cut in the middle of an operation (named, not imported:
# the domain does not depend on the driver).
_LOST_LINK_ERRORS = frozenset({"InterfaceError", "InternalClientError"})


def is_database_busy(err: BaseException) -> bool:
    """True when `err` means the database did not answer in time (locked by another process,
    a lock wait that ran out, a lost connection): trying again later may succeed, unlike a bug
    or a refused row. Looks through the errors Tortoise wraps the driver's in; errors of other
    connections (the PBX, Telegram) are not the database's."""
    seen: set[int] = set()
    pending: list[BaseException] = [err]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (OperationalError, TransactionManagementError, sqlite3.Error)):
            if any(word in str(current).lower() for word in _BUSY_WORDS):
                return True
        if getattr(current, "sqlstate", None) in _BUSY_SQLSTATES:
            return True
        if isinstance(current, DBConnectionError):
            return True
        kind = type(current)
        if kind.__module__.startswith("asyncpg") and kind.__name__ in _LOST_LINK_ERRORS:
            return True
        if isinstance(current, OSError) and _raised_in_driver(current):
            return True  # refused or reset while (re)connecting: a restart under way
        pending += [a for a in current.args if isinstance(a, BaseException)]
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
    return False


def _raised_in_driver(err: BaseException) -> bool:
    """Whether `err` came out of the database driver's code (its socket to the database),
    rather than from another connection of ours (the PBX, Telegram, SMTP)."""
    frame = err.__traceback__
    while frame is not None:
        module = frame.tb_frame.f_globals.get("__name__", "")
        if module.startswith(_DRIVER_MODULES):
            return True
        frame = frame.tb_next
    return False


_DRIVER_MODULES = ("asyncpg.", "aiosqlite.", "tortoise.backends.")

# Pauses (seconds) between tries of a write that must not be lost: about three minutes, on top
# of the busy timeout each try waits.
BUSY_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 30.0, 30.0, 30.0, 30.0)


async def while_busy(
    operation: Callable[[], Awaitable[T]], *, what: str, pauses: tuple[float, ...] = BUSY_PAUSES
) -> T:
    """Run `operation`; while the database is busy (`is_database_busy`) run it again after
    each of `pauses`, logging once. Any other error, or a busy one after the last pause, is
    raised. `what` names the write in the log ("import 12: its end")."""
    for pause in (*pauses, None):
        try:
            return await operation()
        except Exception as err:
            if pause is None or not is_database_busy(err):
                raise
            if pause == pauses[0]:
                logger.warning("%s: the database is busy (%s); trying again", what, err)
        await asyncio.sleep(pause)
    raise AssertionError("unreachable")
