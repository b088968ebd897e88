"""Bulk insertion of generated rows through Tortoise's own connection.

SQLite gets multi-row `executemany` inside one transaction per batch; PostgreSQL gets
asyncpg's binary COPY (`copy_records_to_table`) on the transaction's connection, its
fastest path. Ids are assigned by the generator (read `max(id)` first), so child rows
reference their parents without a round trip; PostgreSQL's sequences are moved past
them at the end.

Columns the generator does not fill are taken from the Tortoise model (its defaults,
NULL when nullable, the load time for auto_now fields), so that a field added to the
schema later does not break the bulk path.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableSpec:
    """A table, the columns the generator fills, and constants for the rest."""

    table: str
    columns: tuple[str, ...]  # generated columns first, then the defaulted ones
    tail: tuple[Any, ...]  # values of the defaulted columns, appended to each row

    @property
    def insert_sql(self) -> str:
        names = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        return f'INSERT INTO "{self.table}" ({names}) VALUES ({marks})'


def _db_default(field: fields.Field, now: datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    default = field.default
    if callable(default):
        default = default()
    if default is None:
        if not field.null:
            raise ValueError(f"no value for the required column {field.model_field_name}")
        return None
    if isinstance(field, fields.JSONField):
        return json.dumps(default)
    return default


def table_spec(model: type[Model], columns: Sequence[str], now: datetime) -> TableSpec:
    """The spec of a model's table when the generator fills `columns`."""
    meta = model._meta
    tail_columns: list[str] = []
    tail_values: list[Any] = []
    for name, column in meta.fields_db_projection.items():
        if column in columns:
            continue
        field = meta.fields_map[name]
        tail_columns.append(column)
        tail_values.append(_db_default(field, now))
    unknown = set(columns) - set(meta.fields_db_projection.values())
    if unknown:
        raise ValueError(f"{meta.db_table} has no columns {sorted(unknown)}")
    return TableSpec(meta.db_table, tuple(columns) + tuple(tail_columns), tuple(tail_values))


def link_spec(table: str, columns: Sequence[str]) -> TableSpec:
    """A many-to-many link table (no model of its own)."""
    return TableSpec(table, tuple(columns), ())


class BulkWriter:
    """Writes batches of rows inside one transaction opened by `loading`."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self.conn = conn
        self.dialect = conn.capabilities.dialect
        self.rows_written = 0
        self._tx: BaseDBAsyncClient | None = None

    async def next_id(self, table: str) -> int:
        rows = await self.conn.execute_query_dict(f'SELECT MAX(id) AS m FROM "{table}"')
        return int(rows[0]["m"] or 0) + 1

    async def count(self, table: str) -> int:
        rows = await self.conn.execute_query_dict(f'SELECT COUNT(*) AS n FROM "{table}"')
        return int(rows[0]["n"])

    async def _secondary_indexes(self, tables: Sequence[str]) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the plain indexes of `tables`.

        Unique indexes (primary keys, unique constraints) are kept: they guard the data.
        """
        names = ", ".join(f"'{t}'" for t in tables)
        if self.dialect == "postgres":
            sql = (
                "SELECT indexname AS name, indexdef AS sql FROM pg_indexes "
                f"WHERE schemaname = current_schema() AND tablename IN ({names})"
            )
        else:
            sql = (
                "SELECT name, sql FROM sqlite_master "
                f"WHERE type = 'index' AND tbl_name IN ({names}) AND sql IS NOT NULL"
            )
        rows = await self.conn.execute_query_dict(sql)
        return sorted(
            (r["name"], r["sql"]) for r in rows if not r["sql"].upper().startswith("CREATE UNIQUE")
        )

    async def _foreign_keys(self, tables: Sequence[str]) -> list[tuple[str, str, str]]:
        """(table, name, definition) of PostgreSQL's foreign keys on `tables`."""
        if self.dialect != "postgres":
            return []  # SQLite cannot drop a constraint, and its checks are cheap lookups
        names = ", ".join(f"'{t}'" for t in tables)
        rows = await self.conn.execute_query_dict(
            "SELECT c.relname AS tbl, k.conname AS name, pg_get_constraintdef(k.oid) AS def "
            "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE k.contype = 'f' AND n.nspname = current_schema() AND c.relname IN ({names})"
        )
        return sorted((r["tbl"], r["name"], r["def"]) for r in rows)

    @asynccontextmanager
    async def loading(
        self, tables: Sequence[str], *, drop_indexes: bool
    ) -> AsyncIterator[BulkWriter]:
        """One transaction for the whole load: it lands entirely or not at all.

        With `drop_indexes` the plain indexes of `tables` (and on PostgreSQL their foreign
        keys) are dropped first and rebuilt at the end, inside the same transaction, as
        PostgreSQL's "Populating a Database" advises: building an index once from sorted
        data is several times cheaper than updating it at random for every row, and one
        validating join replaces a trigger call per row. A failed load rolls back to the
        indexes and constraints as they were.
        """
        indexes = await self._secondary_indexes(tables) if drop_indexes else []
        foreign_keys = await self._foreign_keys(tables) if drop_indexes else []
        restore = await self._tune()
        try:
            async with in_transaction("default") as tconn:
                self._tx = tconn
                if self.dialect == "postgres":
                    await tconn.execute_query("SET LOCAL maintenance_work_mem = '256MB'")
                for table, name, _ in foreign_keys:
                    await tconn.execute_query(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                for name, _ in indexes:
                    await tconn.execute_query(f'DROP INDEX "{name}"')
                yield self
                started = time.perf_counter()
                for _, create in indexes:
                    await tconn.execute_query(create)
                for table, name, definition in foreign_keys:
                    await tconn.execute_query(
                        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                    )
                if indexes:
                    logger.info(
                        "rebuilt %d indexes and %d foreign keys in %.1f s",
                        len(indexes),
                        len(foreign_keys),
                        time.perf_counter() - started,
                    )
        finally:
            self._tx = None
            if restore is not None:
                await self.conn.execute_script(restore)

    async def write(self, batch: Sequence[tuple[TableSpec, list[tuple]]]) -> None:
        """Insert every (spec, rows) of the batch, parents first."""
        tconn = self._tx
        if tconn is None:
            raise RuntimeError("write() outside loading()")
        if self.dialect == "postgres":
            async with tconn.acquire_connection() as raw:
                for spec, rows in batch:
                    if rows:
                        records = [row + spec.tail for row in rows] if spec.tail else rows
                        await raw.copy_records_to_table(
                            spec.table, records=records, columns=list(spec.columns)
                        )
        else:
            for spec, rows in batch:
                if rows:
                    records = [row + spec.tail for row in rows] if spec.tail else rows
                    await tconn.execute_many(spec.insert_sql, records)
        self.rows_written += sum(len(rows) for _, rows in batch)

    async def _tune(self) -> str | None:
        """Tune the connection for a long load; returns the PRAGMAs that restore it."""
        if self.dialect != "sqlite":
            return None
        restore = []
        for pragma in ("cache_size", "temp_store"):
            rows = await self.conn.execute_query_dict(f"PRAGMA {pragma}")
            restore.append(f"PRAGMA {pragma}={int(next(iter(rows[0].values())))}")
        # Index updates and rebuilds thrash the default 2 MB page cache, and rebuilding an
        # index sorts it in temporary storage: keep both in memory (up to 512 MB of pages).
        await self.conn.execute_script("PRAGMA cache_size=-524288; PRAGMA temp_store=MEMORY")
        return "; ".join(restore)

    async def finish(self, id_tables: Sequence[str]) -> None:
        """Move sequences past the ids we chose, refresh planner statistics."""
        if self.dialect == "postgres":
            for table in id_tables:
                await self.conn.execute_script(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{table}"), 1))'
                )
            # Without fresh statistics the planner may scan instead of using the indexes; the
            # VACUUM marks the new pages all-visible, so index-only scans stay index-only
            # (what autovacuum would do some minutes later).
            await self.conn.execute_script("VACUUM (ANALYZE)")
        else:
            # SQLite's AUTOINCREMENT counter follows explicit ids by itself.
            # A full ANALYZE (seconds at a million clients): a sample bounded by analysis_limit
            # took an agent's 250,000 clients for 1,000, and the planner then sorted all of
            # them for each page of a sorted list instead of walking the sort column's index.
            await self.conn.execute_script("ANALYZE")
