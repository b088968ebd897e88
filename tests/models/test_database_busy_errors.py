"""Which errors mean "the database did not answer, try again" (models/core/db.py): a cut
connection must be waited out, never taken for a bad row (a call dropped when PostgreSQL's
connections were killed, found by bench/faults.py)."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
import pytest
from tortoise.exceptions import IntegrityError, OperationalError

from models.core.db import is_database_busy


def wrapped(err: BaseException) -> OperationalError:
    """As Tortoise hands the driver's error on."""
    try:
        try:
            raise err
        except BaseException as inner:
            raise OperationalError(inner) from inner
    except OperationalError as outer:
        return outer


@pytest.mark.parametrize(
    "err",
    [
        asyncpg.exceptions.InternalClientError("cannot switch to state 13"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.CrashShutdownError("the server crashed"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
    ],
)
def test_a_cut_connection_is_waited_out(err):
    assert is_database_busy(err)
    assert is_database_busy(wrapped(err))


@pytest.mark.parametrize(
    "err",
    [
        ValueError("bad value"),
        IntegrityError("UNIQUE constraint failed: call.linkedid"),
        wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key")),
    ],
)
def test_a_refused_row_or_a_bug_is_not(err):
    assert not is_database_busy(err)


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once closed


async def test_a_database_refusing_connections_while_it_restarts_is_waited_out():
    """PostgreSQL down between a stop and a start: the driver's connect is refused (found by
    bench/faults.py pg-restart: a call was dropped as a bug)."""
    with pytest.raises(OSError) as refused:
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{refused_port()}/x", timeout=5)
    assert is_database_busy(refused.value)
    assert is_database_busy(wrapped(refused.value))


async def test_another_connection_refused_is_not_the_databases():
    with pytest.raises(OSError) as refused:
        await asyncio.open_connection("127.0.0.1", refused_port())  # the PBX, say
    assert not is_database_busy(refused.value)
