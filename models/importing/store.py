"""Bulk writes for imports: set-based INSERTs on the current transaction's connection.

The ORM builds one model object per row, which costs more than reading the file (an import
of 100,000 clients writes over a million rows: phones, emails, search words, timeline
entries). Here each table gets a few statements per chunk: on SQLite multi-row VALUES lists
of bound parameters, on PostgreSQL one JSON document per table that the server expands
(`insert_values`). Columns the import does not fill get their model defaults, read from the
Tortoise metadata, so a field added to the schema later keeps working. New clients and leads
get their ids before the INSERT (from the PostgreSQL sequence, or past the SQLite high-water
mark under the transaction's lock), so their phones and emails can point at them in the
same round trip.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

# SQLite page cache while an import writes: its random-key indexes (numbers, emails, names)
# outgrow the default 2 MB after some ten thousand rows, and each miss is a read. 8 MB
# imports 100,000 rows as fast as 32 or 96 MB did (misses come from the OS's page cache)
# and keeps the import's memory within its 300 MB budget.
IMPORT_CACHE_KIB = 8 * 1024
# Rows per SQLite INSERT. The driver keeps each distinct statement prepared (its cache
# holds 128), and one of 5,000 rows takes ~3 MB there: statements come in a few sizes only
# (this one, then halves for the rest of a table's rows in a chunk), about 15 MB for all
# of them together. Statements of 256 rows were slower (a round trip to the driver's
# thread each); 2,048 is as fast as 5,000.
ROWS_PER_STATEMENT = 2048


@dataclass(frozen=True)
class Param:
    """A value passed as a statement parameter (the same for every row)."""

    value: Any


class BulkWriter:
    """Inserts rows of any model through one connection (the import's transaction)."""

    def __init__(self, conn: BaseDBAsyncClient, now: datetime) -> None:
        self.conn = conn
        self.is_postgres = conn.capabilities.dialect == "postgres"
        self.now = now
        self._defaults: dict[
            tuple[type[Model], tuple[str, ...]], tuple[list[str], tuple[Any, ...]]
        ] = {}
        self._types: dict[str, dict[str, str]] = {}

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

    async def insert_values(
        self,
        target: type[Model] | str,
        columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
        constants: dict[str, Param] | None = None,
    ) -> None:
        """Insert `rows` (a tuple of values per row, in the order of `columns`), with the
        same `constants` on every row and a model's other columns at their defaults.

        SQLite gets multi-row VALUES lists of bound parameters (ROWS_PER_STATEMENT rows,
        then halves): its cheapest way in, three to four times cheaper than parsing a JSON
        document column by column. PostgreSQL gets one JSON document per table: one
        statement however many rows, parsed in C by the server, whose own per-row work is
        what bounds it there.
        """
        if not rows:
            return
        constants = constants or {}
        if self.is_postgres:
            doc = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
            values: dict[str, str | Param] = {c: f"r.value ->> {i}" for i, c in enumerate(columns)}
            source = "jsonb_array_elements(CAST($1 AS jsonb)) AS r(value)"
            await self._insert_select(target, {**values, **constants}, [source], [doc], "")
            return
        # The VALUES list comes after the constants in the statement: each of its "?"
        # takes the number after theirs, so its values follow them in the parameters.
        values = {c: f"column{i + 1}" for i, c in enumerate(columns)}
        row_marks = "(" + ",".join("?" * len(columns)) + ")"
        start = 0
        for size in _statement_sizes(len(rows)):
            tail: list[Any] = []
            for row in rows[start : start + size]:
                tail.extend(row)
            start += size
            source = "(VALUES " + ",".join([row_marks] * size) + ")"
            await self._insert_select(target, {**values, **constants}, [source], [], "", tail)

    async def insert_from_rows(
        self, target: type[Model] | str, values: dict[str, str | Param], source: str, where: str
    ) -> None:
        """One INSERT ... SELECT over rows already in the database (`source`, a table with
        its alias, filtered by `where`), with the same defaults as `insert_values`."""
        await self._insert_select(target, values, [source], [], where)

    async def _insert_select(
        self,
        target: type[Model] | str,
        values: dict[str, str | Param],
        sources: list[str],
        params: list[Any],
        where: str,
        tail: list[Any] | None = None,
    ) -> None:
        """INSERT ... SELECT `values` (SQL expressions or Params) FROM `sources`; a model's
        other columns get their defaults. Parameters: `params` (numbered in the sources),
        then the Params, then `tail` (anonymous "?" of the sources)."""
        model = None if isinstance(target, str) else target
        table = target if isinstance(target, str) else target._meta.db_table
        exprs = dict(values)
        if model is not None:
            names, defaults = self._columns(model, tuple(values))
            exprs.update((n, Param(v)) for n, v in zip(names[len(values) :], defaults, strict=True))
        types = await self._column_types(table) if self.is_postgres else {}
        params = list(params)
        selected: list[str] = []
        for column, expr in exprs.items():
            if isinstance(expr, Param):
                params.append(expr.value)
                sql = f"${len(params)}" if self.is_postgres else f"?{len(params)}"
            else:
                sql = expr
            if self.is_postgres:
                sql = f"CAST({sql} AS {types[column]})"
            selected.append(sql)
        columns = ", ".join(f'"{c}"' for c in exprs)
        sql = (
            f'INSERT INTO "{table}" ({columns}) SELECT {", ".join(selected)} '
            f"FROM {', '.join(sources)}" + (f" WHERE {where}" if where else "")
        )
        await self.conn.execute_query(sql, params + (tail or []))

    async def _column_types(self, table: str) -> dict[str, str]:
        """PostgreSQL's type of each column (a JSON element is text until cast)."""
        if table not in self._types:
            rows = await self.conn.execute_query_dict(
                "SELECT column_name AS name, data_type AS type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = $1",
                [table],
            )
            self._types[table] = {r["name"]: r["type"] for r in rows}
        return self._types[table]

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

    async def lookup(
        self, sql_template: str, values: list[Any], chunk: int = 5000
    ) -> list[dict[str, Any]]:
        """Run `sql_template` (with one `{marks}` IN list) over `values` in chunks."""
        result: list[dict[str, Any]] = []
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


def _statement_sizes(count: int) -> list[int]:
    """`count` rows as statements of ROWS_PER_STATEMENT rows, then of halving sizes."""
    sizes = [ROWS_PER_STATEMENT] * (count // ROWS_PER_STATEMENT)
    rest, size = count % ROWS_PER_STATEMENT, ROWS_PER_STATEMENT // 2
    while rest:
        if rest >= size:
            sizes.append(size)
            rest -= size
        size //= 2
    return sizes
