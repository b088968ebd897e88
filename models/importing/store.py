"""Bulk writes for imports: multi-row INSERTs on the current transaction's connection.

The ORM builds one model object per row, which costs more than reading the file. Here each
table gets one parametrised INSERT executed over a chunk of rows. Columns the import does not
fill get their model defaults, read from the Tortoise metadata, so a field added to the schema
later keeps working. New clients and leads get their ids before the INSERT (from the
PostgreSQL sequence, or past the SQLite high-water mark under the transaction's lock), so their
phones and emails can point at them in the same round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model


class BulkWriter:
    """Inserts rows of any model through one connection (the import's transaction)."""

    def __init__(self, conn: BaseDBAsyncClient, now: datetime) -> None:
        self.conn = conn
        self.is_postgres = conn.capabilities.dialect == "postgres"
        self.now = now
        self._sql: dict[tuple[type[Model], tuple[str, ...]], tuple[str, tuple[Any, ...]]] = {}

    def db_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and not self.is_postgres:
            return str(value)  # the form Tortoise itself stores in SQLite
        return value

    def _statement(
        self, model: type[Model], columns: tuple[str, ...]
    ) -> tuple[str, tuple[Any, ...]]:
        key = (model, columns)
        if key not in self._sql:
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
                    raise ValueError(
                        f"{meta.db_table}.{column} has no default; the import must fill it"
                    )
                extra.append(column)
                defaults.append(self.db_value(value))
            names = list(columns) + extra
            if self.is_postgres:
                marks = ", ".join(f"${i}" for i in range(1, len(names) + 1))
            else:
                marks = ", ".join("?" for _ in names)
            quoted = ", ".join(f'"{n}"' for n in names)
            self._sql[key] = (
                f'INSERT INTO "{meta.db_table}" ({quoted}) VALUES ({marks})',
                tuple(defaults),
            )
        return self._sql[key]

    async def insert(self, model: type[Model], columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        sql, defaults = self._statement(model, tuple(columns))
        values = (
            [list(row) + list(defaults) for row in rows] if defaults else [list(r) for r in rows]
        )
        await self.conn.execute_many(sql, values)

    async def insert_plain(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        """Rows of a table without a model of its own (a many-to-many link table)."""
        if not rows:
            return
        if self.is_postgres:
            marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        else:
            marks = ", ".join("?" for _ in columns)
        quoted = ", ".join(f'"{c}"' for c in columns)
        await self.conn.execute_many(
            f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', [list(r) for r in rows]
        )

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

    async def lookup(self, sql_template: str, values: list[Any], chunk: int = 500) -> list[dict]:
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
