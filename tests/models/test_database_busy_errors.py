"""Which errors mean "the database did not answer, try again" (models/core/db.py): a cut
connection must be waited out, never taken for a bad row (a call dropped when PostgreSQL's
connections were killed, found by bench/faults.py)."""

from __future__ import annotations

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
