"""Running one import: rows read and checked in a worker thread, written chunk by chunk.

Each chunk is one transaction that also advances the batch's counters, so after a crash the
database holds whole chunks and counters that describe them. A resumed import (`resume`: the
counters stored by then) reads the file from the start again, keeps the rejections of the rows
already written (they were stored only at the end) and writes from the first row not written.
Duplicates are found by E.164 number or email, against the database and against earlier rows
of the same file, and handled as the user chose: skip the row, update (merge into) the one
found, or create anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.importing.changes import create_records, entity_model, owner_column, update_record
from models.importing.parallel import (
    PARALLEL_MIN_ROWS,
    check_chunk,
    checked_in_processes,
    default_workers,
    read_chunk,
)
from models.importing.readers import Cell, Table
from models.importing.rows import Record, Rejection, RowChecker, merged
from models.importing.store import BulkWriter, larger_sqlite_cache
from models.schema.clients import Tag
from models.schema.imports import ImportBatch, ImportChange

logger = logging.getLogger(__name__)

DUPLICATE_POLICIES = ("skip", "update", "create")
# Rows per transaction. Big enough that each index page an import dirties is written once
# per many rows (SQLite rewrites every dirtied page at commit); one chunk holds SQLite's
# write lock for about a second.
CHUNK_ROWS = 5_000
GC_THRESHOLD = 50_000
# Kept for the report and its CSV download; past it only the count grows.
MAX_KEPT_REJECTIONS = 20_000


@dataclass
class ImportCounts:
    """What an import did (or, in a dry run, would do)."""

    total_rows: int = 0
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def reject(self, rejection: Rejection) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_KEPT_REJECTIONS:
            self.rejections.append(rejection)


@dataclass
class ImportJob:
    """Everything one run needs, decided before it starts."""

    kind: str
    duplicates: str
    checker: RowChecker
    now: datetime
    batch_id: int | None  # None: a dry run, nothing is written
    user_id: int | None = None
    default_responsible_id: int | None = None


class ImportEngine:
    def __init__(
        self,
        table: Table,
        job: ImportJob,
        *,
        on_chunk: Callable[[ImportCounts], Awaitable[None]] | None = None,
        chunk_rows: int | None = None,
        workers: int | None = None,
        parallel_min_rows: int | None = None,
        worker_memory: int | None = None,
        resume: ImportCounts | None = None,
    ) -> None:
        self.table = table
        self.worker_memory = worker_memory  # address space of each worker process
        self.job = job
        self.on_chunk = on_chunk
        self.chunk_rows = CHUNK_ROWS if chunk_rows is None else chunk_rows
        self.workers = default_workers() if workers is None else workers
        self.parallel_min_rows = (
            PARALLEL_MIN_ROWS if parallel_min_rows is None else parallel_min_rows
        )
        self.counts = resume or ImportCounts(total_rows=table.total_rows)
        # Rows of the file already written by an earlier run of this import (whole chunks).
        self._written = resume.processed_rows if resume is not None else 0
        # Key of a row already handled -> its client/lead id, across chunks in a dry run only:
        # a real run finds earlier chunks' rows in the database (`_existing`), so its memory
        # does not grow with the file.
        self._seen: dict[str, int] = {}
        self._snapshotted: set[int] = set()
        self._tag_ids: dict[str, int] = {}
        self._dry_ids = 0

    @property
    def dry_run(self) -> bool:
        return self.job.batch_id is None

    async def run(self) -> ImportCounts:
        with fewer_collections():
            async with larger_sqlite_cache(None if self.dry_run else _connection()):
                return await self._run()

    async def _run(self) -> ImportCounts:
        chunks: AsyncGenerator[tuple[list[Record | Rejection], int], None]
        if self.workers and self.table.total_rows >= self.parallel_min_rows:
            chunks = checked_in_processes(
                self.table,
                self.job.checker,
                workers=self.workers,
                chunk_rows=self.chunk_rows,
                memory_bytes=self.worker_memory,
            )
        else:
            chunks = self._checked_in_thread()
        # aclosing: stop the readers (threads, worker processes) before anything else.
        async with contextlib.aclosing(chunks):
            async for checked, read in chunks:
                await _uninterrupted(self._chunk(checked, read))
        self.counts.total_rows = self.counts.processed_rows
        return self.counts

    async def _checked_in_thread(
        self,
    ) -> AsyncGenerator[tuple[list[Record | Rejection], int], None]:
        # The next chunk is read and checked in a thread while this one is written: the
        # database driver runs its statements without the GIL, so the two overlap.
        rows = self.table.rows()
        ahead = asyncio.ensure_future(asyncio.to_thread(self._next_chunk, rows))
        try:
            while True:
                checked, read = await ahead
                if not read:
                    return
                ahead = asyncio.ensure_future(asyncio.to_thread(self._next_chunk, rows))
                yield checked, read
        finally:
            # A thread cannot be interrupted: let it finish its chunk before the file closes.
            await asyncio.wait([ahead])
            if not ahead.cancelled():
                ahead.exception()
            rows.close()

    def _next_chunk(
        self, rows: Iterator[tuple[int, list[Cell]]]
    ) -> tuple[list[Record | Rejection], int]:
        checked = check_chunk(self.job.checker, read_chunk(rows, self.chunk_rows))
        return checked, len(checked)

    def _plan(
        self, records: list[Record], existing: dict[str, int]
    ) -> tuple[list[Record], list[tuple[int, Record]]]:
        creates: list[Record] = []
        updates: list[tuple[int, Record]] = []
        pending: dict[str, int] = {}  # key -> index in `creates` of a new row of this chunk
        policy = self.job.duplicates
        # Within a chunk, numbers and emails that an update is about to add to an existing
        # client are not in the database yet: the chunk remembers them itself.
        seen = self._seen if self.dry_run else {}
        for rec in records:
            keys = rec.keys
            if policy == "create":
                creates.append(rec)
                continue
            new: int | None = None
            known: int | None = None
            for key in keys:
                new = pending.get(key)
                if new is not None:
                    break
                known = seen.get(key) or existing.get(key)
                if known is not None:
                    break
            if new is None and known is None:
                for key in keys:
                    pending.setdefault(key, len(creates))
                creates.append(rec)
            elif policy == "skip":
                self.counts.skipped += 1
            elif new is not None:
                self.counts.updated += 1
                creates[new] = merged(creates[new], rec)
                for key in keys:
                    pending.setdefault(key, new)
            else:
                assert known is not None
                self.counts.updated += 1
                updates.append((known, rec))
                for key in keys:
                    seen.setdefault(key, known)
        return creates, updates

    async def _existing(self, writer: BulkWriter | None, records: list[Record]) -> dict[str, int]:
        """Clients (or leads) already in the database with a number or email of these rows."""
        if self.job.duplicates == "create":
            return {}
        owner = owner_column(self.job.kind)
        numbers = sorted({k[1:] for r in records for k in r.keys if k[0] == "p"})
        addresses = sorted({k[1:] for r in records for k in r.keys if k[0] == "e"})
        lookup = writer or BulkWriter(_connection(), self.job.now)
        found: dict[str, int] = {}
        rows = await lookup.lookup(
            f'SELECT e164 AS k, {owner} AS id FROM "phone" WHERE {owner} IS NOT NULL '
            "AND e164 IN ({marks}) ORDER BY id",
            numbers,
        )
        for row in rows:
            found.setdefault("p" + row["k"], int(row["id"]))
        rows = await lookup.lookup(
            f'SELECT address AS k, {owner} AS id FROM "email" WHERE {owner} IS NOT NULL '
            "AND address IN ({marks}) ORDER BY id",
            addresses,
        )
        for row in rows:
            found.setdefault("e" + row["k"], int(row["id"]))
        return found

    async def _chunk(self, checked: list[Record | Rejection], read: int) -> None:
        if self._written:
            # Written before the interruption: counted then, but their rejections are kept
            # for the report only now. One item per row read, so the split is by position.
            done = min(self._written, read)
            self._written -= done
            for item in checked[:done]:
                if isinstance(item, Rejection) and len(self.counts.rejections) < (
                    MAX_KEPT_REJECTIONS
                ):
                    self.counts.rejections.append(item)
            checked, read = checked[done:], read - done
            if not read:
                return
        records: list[Record] = []
        for item in checked:
            if isinstance(item, Rejection):
                self.counts.reject(item)
            else:
                records.append(item)
        if self.dry_run:
            existing = await self._existing(None, records)
            creates, updates = self._plan(records, existing)
            ids = list(range(-self._dry_ids - 1, -self._dry_ids - 1 - len(creates), -1))
            self._dry_ids += len(creates)
        else:
            async with in_transaction() as conn:
                writer = BulkWriter(conn, self.job.now)
                existing = await self._existing(writer, records)
                creates, updates = self._plan(records, existing)
                ids = await self._write(writer, creates, updates)
                self.counts.created += len(creates)
                self.counts.processed_rows += read
                await self._save_counts(conn)
        if self.dry_run:
            seen = self._seen
            for entity_id, rec in zip(ids, creates, strict=True):
                for key in rec.keys:  # after merges: every number and email of the new row
                    seen.setdefault(key, entity_id)
            self.counts.created += len(creates)
            self.counts.processed_rows += read
        if self.on_chunk:
            await self.on_chunk(self.counts)

    async def _write(
        self, writer: BulkWriter, creates: list[Record], updates: list[tuple[int, Record]]
    ) -> list[int]:
        job = self.job
        if job.kind == "clients":
            await self._ensure_tags(
                writer,
                {t for r in creates for t in r.tags} | {t for _, r in updates for t in r.tags},
            )
        ids = await writer.allocate_ids(entity_model(job.kind), len(creates))
        await create_records(
            writer,
            job.kind,
            creates,
            ids,
            batch_id=job.batch_id or 0,
            user_id=job.user_id,
            default_responsible_id=job.default_responsible_id,
            tag_ids=self._tag_ids,
        )
        for entity_id, rec in updates:
            await update_record(
                job.kind,
                entity_id,
                rec,
                batch_id=job.batch_id,
                snapshot=entity_id not in self._snapshotted,
                tag_ids=self._tag_ids,
            )
            self._snapshotted.add(entity_id)
        return ids

    async def _ensure_tags(self, writer: BulkWriter, names: set[str]) -> None:
        missing = sorted(n for n in names if n not in self._tag_ids)
        if not missing:
            return
        for tag_id, name in await Tag.filter(name__in=missing).values_list("id", "name"):
            self._tag_ids[name] = tag_id
        for name in missing:
            if name not in self._tag_ids:
                tag = await Tag.create(name=name)
                self._tag_ids[name] = tag.id
                # Recorded so that cancelling the import also removes the tags it invented.
                await ImportChange.create(
                    batch_id=self.job.batch_id, entity="tag", entity_id=tag.id, action="created"
                )

    async def _save_counts(self, conn: BaseDBAsyncClient) -> None:
        c = self.counts
        await (
            ImportBatch.filter(id=self.job.batch_id)
            .using_db(conn)
            .update(
                processed_rows=c.processed_rows,
                created_count=c.created,
                updated_count=c.updated,
                skipped_count=c.skipped,
                rejected_count=c.rejected,
            )
        )


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Fewer passes of Python's cycle collector while an import runs.

    An import allocates several objects per row while holding many long-lived ones; with the
    default threshold (700 allocations) the collector's full passes over them cost more than
    the import itself past some 50,000 rows (measured: 60 s -> 28 s for 100,000 rows).
    Nothing an import makes forms cycles that need collecting promptly.
    """
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], GC_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


async def _uninterrupted(write: Awaitable[None]) -> None:
    """Run one chunk's write to its end even when the import is stopped meanwhile, then stop.

    A task cancelled while the driver opens or ends a transaction can leave the connection
    inside it (Tortoise sets the task's connection before BEGIN returns, and resets it only
    in the exit that then never runs): the next statements of the task, such as recording
    that the import stopped, would go into that transaction and never be committed, holding
    its locks. So a stop takes effect between chunks, at most a chunk (about a second) later.
    """
    task = asyncio.ensure_future(write)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved: the import ends as stopped whatever the chunk did
        raise


def _connection() -> BaseDBAsyncClient:
    from tortoise import connections

    conn: BaseDBAsyncClient = connections.get("default")
    return conn
