"""Bulk writes for imports: multi-row INSERTs on the current transaction's connection.

The ORM builds one model object per row, which costs more than reading the file. Here each
table gets one parametrised INSERT executed over a chunk of rows. Columns the import does not
fill get their model defaults, read from the Tortoise metadata, so a field added to the schema
later keeps working. New clients and leads get their ids before the INSERT (from the
PostgreSQL sequence, or past the SQLite high-water mark under the transaction's lock), so their
phones and emails can point at them in the same round trip.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

# SQLite page cache while an import writes: its random-key indexes (numbers, emails, names)
# outgrow the default 2 MB after some ten thousand rows, and each miss is a read.
IMPORT_CACHE_KIB = 32 * 1024

# Below the parameter limits of SQLite (32766) and PostgreSQL (32767) per statement.
MAX_PARAMETERS = 30_000
ROWS_PER_STATEMENT = 250


class BulkWriter:
    """Inserts rows of any model through one connection (the import's transaction)."""

    def __init__(self, conn: BaseDBAsyncClient, now: datetime) -> None:
        self.conn = conn
        self.is_postgres = conn.capabilities.dialect == "postgres"
        self.now = now
        self._defaults: dict[tuple[type[Model], tuple[str, ...]], tuple[list[str], tuple]] = {}
        self._sql: dict[tuple[str, str, int], str] = {}

    def db_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and not self.is_postgres:
            return str(value)  # the form Tortoise itself stores in SQLite
        return value

    def _columns(
        self, model: type[Model], columns: tuple[str, ...]
    ) -> tuple[list[str], tuple[Any, ...]]:
        """The columns to insert (ours, then the rest with their defaults) and those defaults."""
        key = (model, columns)
        if key not in self._defaults:
            meta = model._meta
            extra: list[str] = []
            defaults: list[Any] = []
            for field_name, column in meta.fields_db_projection.items():
                if column in columns or field_name == meta.pk_attr:
                    continue
                field = meta.fields_map[field_name]
                if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                    value: Any = self.now
                elif field.default is not None:
                    value = field.default() if callable(field.default) else field.default
                    value = field.to_db_value(value, model)
                elif field.null:
                    value = None
                else:
                    raise ValueError(f"{meta.db_table}.{column} has no default for the import")
                extra.append(column)
                defaults.append(self.db_value(value))
            self._defaults[key] = (list(columns) + extra, tuple(defaults))
        return self._defaults[key]

    async def insert(self, model: type[Model], columns: Sequence[str], rows: list[tuple]) -> None:
        names, defaults = self._columns(model, tuple(columns))
        if defaults:
            rows = [row + defaults for row in rows]
        await self.insert_plain(model._meta.db_table, names, rows)

    async def insert_plain(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        """Rows as multi-row INSERTs of a fixed size (the driver crosses into C, releasing the
        GIL, once per statement instead of once per row), the remainder row by row. Fixed sizes
        keep the driver's cache of prepared statements to two per table."""
        width = len(columns)
        per_statement = max(1, min(ROWS_PER_STATEMENT, MAX_PARAMETERS // width))
        quoted = ", ".join(f'"{c}"' for c in columns)
        whole = len(rows) - len(rows) % per_statement
        if whole:
            sql = self._values_sql(table, quoted, width, per_statement)
            for start in range(0, whole, per_statement):
                part = rows[start : start + per_statement]
                await self.conn.execute_query(sql, [value for row in part for value in row])
        if whole < len(rows):
            sql = self._values_sql(table, quoted, width, 1)
            await self.conn.execute_many(sql, [list(row) for row in rows[whole:]])

    def _values_sql(self, table: str, quoted: str, width: int, count: int) -> str:
        key = (table, quoted, count)
        if key not in self._sql:
            if self.is_postgres:
                groups = [
                    "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")"
                    for r in range(count)
                ]
            else:
                groups = ["(" + ", ".join(["?"] * width) + ")"] * count
            self._sql[key] = f'INSERT INTO "{table}" ({quoted}) VALUES {", ".join(groups)}'
        return self._sql[key]

    async def allocate_ids(self, model: type[Model], count: int) -> list[int]:
        """`count` fresh primary keys for `model`, never reused after a cancelled import."""
        if count == 0:
            return []
        table = model._meta.db_table
        if self.is_postgres:
            rows = await self.conn.execute_query_dict(
                f"SELECT nextval(pg_get_serial_sequence('\"{table}\"', 'id')) AS id "
                "FROM generate_series(1, $1)",
                [count],
            )
            return [int(r["id"]) for r in rows]
        high = await self.conn.execute_query_dict(f'SELECT MAX(id) AS high FROM "{table}"')
        seq = await self.conn.execute_query_dict(
            "SELECT seq FROM sqlite_sequence WHERE name = ?", [table]
        )
        start = max(high[0]["high"] or 0, seq[0]["seq"] if seq else 0) + 1
        return list(range(start, start + count))

    async def lookup(self, sql_template: str, values: list[Any], chunk: int = 5000) -> list[dict]:
        """Run `sql_template` (with one `{marks}` IN list) over `values` in chunks."""
        result: list[dict] = []
        for i in range(0, len(values), chunk):
            part = values[i : i + chunk]
            if self.is_postgres:
                marks = ", ".join(f"${n}" for n in range(1, len(part) + 1))
            else:
                marks = ", ".join("?" for _ in part)
            result.extend(
                await self.conn.execute_query_dict(sql_template.format(marks=marks), part)
            )
        return result


@contextlib.asynccontextmanager
async def larger_sqlite_cache(conn: BaseDBAsyncClient | None) -> AsyncIterator[None]:
    """A bigger SQLite page cache for the import's duration (nothing on PostgreSQL)."""
    if conn is None or conn.capabilities.dialect != "sqlite":
        yield
        return
    rows = await conn.execute_query_dict("PRAGMA cache_size")
    previous = int(next(iter(rows[0].values()))) if rows else -2000
    await conn.execute_script(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        await conn.execute_script(f"PRAGMA cache_size = {previous}")
