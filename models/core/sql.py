"""Parameterized SQL written once for SQLite and PostgreSQL, on the default connection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise import connections

# The largest id an integer primary key holds on both databases (PostgreSQL's `integer`): a
# larger number in a URL or a form names no record, and must not reach the driver, which
# would refuse it with an error instead of finding nothing.
MAX_ID = 2**31 - 1


def is_id(value: int) -> bool:
    """Whether `value` can be the id of a record (positive, within MAX_ID)."""
    return 0 < value <= MAX_ID


class Sql:
    """Parameterized SQL for the default connection, written once for SQLite and PostgreSQL."""

    def __init__(self) -> None:
        self.conn = connections.get("default")
        self.sqlite = self.conn.capabilities.dialect == "sqlite"
        self.params: list[Any] = []

    def p(self, value: Any) -> str:
        if self.sqlite and isinstance(value, datetime):
            # Stored the way Tortoise writes it: UTC, ISO with a space, so text order is time order.
            value = value.astimezone(UTC).isoformat(" ")
        self.params.append(value)
        # Numbered on both (?N is SQLite's $N), so a fragment may be built in any order.
        return f"?{len(self.params)}" if self.sqlite else f"${len(self.params)}"

    def local_hour(self, column: str, minutes: int) -> str:
        if self.sqlite:
            return f"CAST(strftime('%H', {column}, {self.p(f'{minutes:+d} minutes')}) AS INTEGER)"
        shifted = f"({column} AT TIME ZONE 'UTC') + make_interval(mins => {self.p(minutes)}::int)"
        return f"CAST(EXTRACT(HOUR FROM {shifted}) AS INTEGER)"

    def local_day(self, column: str, minutes: int) -> str:
        if self.sqlite:
            return f"date({column}, {self.p(f'{minutes:+d} minutes')})"
        shifted = f"({column} AT TIME ZONE 'UTC') + make_interval(mins => {self.p(minutes)}::int)"
        return f"CAST({shifted} AS DATE)"

    def days_between(self, earlier: str, later: str) -> str:
        if self.sqlite:
            return f"(julianday({later}) - julianday({earlier}))"
        return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        params, self.params = self.params, []
        rows: list[dict[str, Any]] = await self.conn.execute_query_dict(sql, params)
        return rows
