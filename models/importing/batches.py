"""Imports as the user sees them: preview, start, run, report, cancel (C9, E3).

A batch row (ImportBatch) is the import's record: who ran it, the mapping, the counters the
progress bar shows, the rejected rows, its status. It outlives the process, so "cancel
import" works after a restart. An import a stopped process left half-way is resumed or
undone (models/importing/interruptions.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from models.core.clock import Clock, SystemClock
from models.core.db import is_database_busy, while_busy
from models.core.errors import Conflict, NotFound, ValidationFailed, msg
from models.core.labels import N_
from models.importing.cells import cell_text, escape_formula
from models.importing.changes import entity_model, in_use, restore
from models.importing.engine import DUPLICATE_POLICIES, ImportCounts, ImportEngine, ImportJob
from models.importing.leases import LEASE_SECONDS, keep_lease, lease_end
from models.importing.mapping import (
    CUSTOM_PREFIX,
    KINDS,
    Target,
    check_mapping,
    suggest_mapping,
    targets,
)
from models.importing.processes import memory_limit
from models.importing.readers import Table, open_table, reopen_table
from models.importing.rows import CustomSpec, RowChecker
from models.importing.statuses import (
    DATABASE_BUSY,
    STOPPED,
    status_label,
    unexpected_error,
)
from models.people.permissions import require
from models.people.users import get_company
from models.schema.clients import Client, CustomField, Tag
from models.schema.imports import ImportBatch, ImportChange
from models.schema.users import User

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 10
FINISHED = ("done", "failed")


@dataclass(frozen=True)
class ImportPreview:
    """The first rows of a file and the suggested mapping, for the mapping form."""

    format: str
    encoding: str | None
    delimiter: str | None
    headers: list[str]
    rows: list[list[str]]
    total_rows: int
    targets: list[Target]
    suggested: dict[str, str]  # header -> target key ("" = ignore)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationFailed({"kind": f"must be one of: {', '.join(KINDS)}"})


async def available_targets(kind: str) -> list[Target]:
    _check_kind(kind)
    applies_to = kind[:-1]
    fields = await CustomField.filter(applies_to=applies_to).order_by("position", "id")
    return targets(kind, [(f.key, f.label) for f in fields])


async def preview_import(
    path: Path,
    *,
    kind: str,
    max_bytes: int,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> ImportPreview:
    """Check the file and show its first rows with a suggested mapping (writes nothing).

    A CSV file's `delimiter` and `encoding` are found unless given, here and below.
    """
    _check_kind(kind)
    table = await _open(path, max_bytes, delimiter, encoding)
    sample = await asyncio.to_thread(_first_rows, table)
    available = await available_targets(kind)
    return ImportPreview(
        format=table.format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        headers=table.headers,
        rows=sample,
        total_rows=table.total_rows,
        targets=available,
        suggested=suggest_mapping(table.headers, available),
    )


async def _open(path: Path, max_bytes: int, delimiter: str | None, encoding: str | None) -> Table:
    return await asyncio.to_thread(
        partial(open_table, path, max_bytes=max_bytes, delimiter=delimiter, encoding=encoding)
    )


def _first_rows(table: Table) -> list[list[str]]:
    width = len(table.headers)
    return [[cell_text(c) for c in cells[:width]] for _, cells in table.head(PREVIEW_ROWS)]


async def _checker(table: Table, kind: str, mapping: dict[str, str]) -> RowChecker:
    available = await available_targets(kind)
    columns = check_mapping(mapping, table.headers, available)
    custom = {
        f.key: CustomSpec(f.id, f.kind, tuple(f.choices))
        for f in await CustomField.filter(applies_to=kind[:-1])
    }
    users: dict[str, int] = {}
    for user_id, username, full_name in await User.filter(is_active=True).values_list(
        "id", "username", "full_name"
    ):
        if full_name:
            users.setdefault(full_name.lower(), user_id)
        users[username.lower()] = user_id
    company = await get_company()
    used_custom = {t[len(CUSTOM_PREFIX) :] for t in columns.values() if t.startswith(CUSTOM_PREFIX)}
    return RowChecker(
        table.headers,
        columns,
        region=company.default_region,
        custom={k: v for k, v in custom.items() if k in used_custom},
        users=users,
    )


def _check_options(kind: str, duplicates: str) -> None:
    _check_kind(kind)
    if duplicates not in DUPLICATE_POLICIES:
        raise ValidationFailed({"duplicates": f"must be one of: {', '.join(DUPLICATE_POLICIES)}"})


async def create_import(
    user: User | None,
    path: Path,
    *,
    kind: str,
    mapping: dict[str, str],
    duplicates: str = "skip",
    file_name: str = "",
    max_bytes: int,
    delimiter: str | None = None,
    encoding: str | None = None,
    clock: Clock | None = None,
) -> ImportBatch:
    """Check file and mapping and record a pending import; `run_import` then carries it out.

    `user` None is the system (the command line without --user). The importing user becomes
    the responsible of rows that do not name one.
    """
    if user is not None:
        require(user, "import_export")
    _check_options(kind, duplicates)
    table = await _open(path, max_bytes, delimiter, encoding)
    await _checker(table, kind, mapping)  # refuses a bad mapping before anything is recorded
    return await ImportBatch.create(
        kind=kind,
        file_name=(file_name or path.name)[:255],
        user=user,
        mapping=mapping,
        options={
            "path": str(path),
            "duplicates": duplicates,
            "headers": table.headers,
            "table": table.describe(),
        },
        total_rows=table.total_rows,
        lease_until=lease_end(clock or SystemClock()),
    )


async def run_import(
    batch_id: int,
    *,
    max_bytes: int,
    clock: Clock | None = None,
    workers: int | None = None,
    lease_seconds: float = LEASE_SECONDS,
) -> ImportBatch:
    """Carry out a pending import. A failure is recorded on the batch, whose chunks stay
    cancellable; a cancelled task records that it was stopped and re-raises. While it runs,
    its lease is renewed (models/importing/leases.py)."""
    clock = clock or SystemClock()
    # Conditional: of two processes handed the same pending import, one runs it.
    taken = await ImportBatch.filter(id=batch_id, status="pending").update(
        status="running", lease_until=lease_end(clock, lease_seconds)
    )
    if not taken:
        batch = await get_import(batch_id)
        raise Conflict(
            msg(
                "import %(id)s is %(status)s, not waiting to start",
                id=batch_id,
                status=status_label(batch.status),
            )
        )
    leasing = asyncio.create_task(keep_lease(batch_id, clock, lease_seconds))
    try:
        return await _carry_out(batch_id, max_bytes, clock, workers)
    finally:
        leasing.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await leasing


async def _carry_out(
    batch_id: int, max_bytes: int, clock: Clock, workers: int | None
) -> ImportBatch:
    batch = await get_import(batch_id)
    resume = _written_so_far(batch)
    if resume is not None:
        logger.info("import %s resumed after row %s", batch_id, batch.processed_rows)
    try:
        table = await asyncio.to_thread(
            reopen_table,
            Path(batch.options["path"]),
            batch.options.get("table"),
            max_bytes=max_bytes,
        )
        job = ImportJob(
            kind=batch.kind,
            duplicates=batch.options.get("duplicates", "skip"),
            checker=await _checker(table, batch.kind, batch.mapping),
            now=clock.now(),
            batch_id=batch.id,
            user_id=batch.user_id,
            default_responsible_id=batch.user_id,
        )
        counts = await ImportEngine(
            table, job, workers=workers, worker_memory=memory_limit(max_bytes), resume=resume
        ).run()
    except asyncio.CancelledError:
        await _finish(batch.id, "failed", clock, error=STOPPED.msgid)
        raise
    except ValidationFailed as err:
        await _finish(batch.id, "failed", clock, error=str(err))
        return await get_import(batch_id)
    except Exception as err:
        if is_database_busy(err):  # another process held the database past the busy timeout
            logger.warning("import %s failed: the database is busy (%s)", batch_id, err)
            error = DATABASE_BUSY.msgid
        else:
            logger.exception("import %s failed", batch_id)
            error = unexpected_error(err)
        await _finish(batch.id, "failed", clock, error=error)
        return await get_import(batch_id)
    await _finish(batch.id, "done", clock, counts=counts)
    logger.info(
        "import %s done: %s created, %s updated, %s skipped, %s rejected",
        batch_id,
        counts.created,
        counts.updated,
        counts.skipped,
        counts.rejected,
    )
    return await get_import(batch_id)


def _written_so_far(batch: ImportBatch) -> ImportCounts | None:
    """The counters of a resumed import (rows already written), None for a new one."""
    if not batch.processed_rows:
        return None
    return ImportCounts(
        total_rows=batch.total_rows,
        processed_rows=batch.processed_rows,
        created=batch.created_count,
        updated=batch.updated_count,
        skipped=batch.skipped_count,
        rejected=batch.rejected_count,
    )


async def _finish(
    batch_id: int, status: str, clock: Clock, *, error: str = "", counts: ImportCounts | None = None
) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": clock.now(), "error": error[:2000]}
    if counts is not None:
        values.update(
            total_rows=counts.total_rows,
            processed_rows=counts.processed_rows,
            created_count=counts.created,
            updated_count=counts.updated,
            skipped_count=counts.skipped,
            rejected_count=counts.rejected,
            rejected=[
                {
                    "row": r.row,
                    "column": r.column,
                    "reason": r.reason,
                    "values": list(r.values),
                    "message": r.message,
                    "params": dict(r.params),
                }
                for r in counts.rejections
            ],
        )
    # Retried while the database is busy: a batch left "running" could not be undone.
    await while_busy(
        lambda: ImportBatch.filter(id=batch_id).update(**values), what=f"import {batch_id}: its end"
    )


async def dry_run_import(
    path: Path,
    *,
    kind: str,
    mapping: dict[str, str],
    duplicates: str = "skip",
    max_bytes: int,
    workers: int | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> ImportCounts:
    """What an import would do, without writing anything (not even a batch)."""
    _check_options(kind, duplicates)
    table = await _open(path, max_bytes, delimiter, encoding)
    job = ImportJob(
        kind=kind,
        duplicates=duplicates,
        checker=await _checker(table, kind, mapping),
        now=SystemClock().now(),
        batch_id=None,
    )
    return await ImportEngine(
        table, job, workers=workers, worker_memory=memory_limit(max_bytes)
    ).run()


async def get_import(batch_id: int) -> ImportBatch:
    batch = await ImportBatch.get_or_none(id=batch_id).prefetch_related("user")
    if batch is None:
        raise NotFound(f"import {batch_id} not found")
    return batch


async def list_imports(kind: str | None = None, limit: int = 20) -> list[ImportBatch]:
    query = ImportBatch.all() if kind is None else ImportBatch.filter(kind=kind)
    return list(await query.order_by("-id").limit(limit).prefetch_related("user"))


async def cancel_import(
    batch_id: int, *, user: User | None = None, clock: Clock | None = None
) -> ImportBatch:
    """Undo one import: delete what it created, give updated rows their previous values.

    Created rows that people have since worked on (a deal, a task, a note) are kept and
    listed in `batch.options["kept_on_cancel"]`, so that cancelling never deletes that work.
    """
    if user is not None:
        require(user, "import_export")
    clock = clock or SystemClock()
    batch = await get_import(batch_id)
    if batch.status == "cancelled":
        raise Conflict(msg("import %(id)s is already cancelled", id=batch_id))
    if batch.status not in FINISHED:
        raise Conflict(
            msg(
                "import %(id)s is still %(status)s: stop it first",
                id=batch_id,
                status=status_label(batch.status),
            )
        )
    async with in_transaction():
        changes = await ImportChange.filter(batch_id=batch_id).order_by("-id")
        for change in changes:
            if change.action == "updated":
                await restore(change)
        model = entity_model(batch.kind)
        kept = sorted(await in_use(batch.kind, batch_id))
        if kept:
            # They stay, as ordinary clients (or leads) no longer tied to this import.
            await model.filter(id__in=kept).update(import_batch_id=None)
        deleted = await model.filter(import_batch_id=batch_id).delete()
        invented = [c.entity_id for c in changes if c.entity == "tag" and c.action == "created"]
        for tag_id in invented:  # unless someone has used the tag since
            if not await Client.filter(tags__id=tag_id).exists():
                await Tag.filter(id=tag_id).delete()
        batch.status = "cancelled"
        batch.cancelled_at = clock.now()
        batch.options = {**batch.options, "kept_on_cancel": kept}
        await batch.save(update_fields=["status", "cancelled_at", "options"])
    logger.info(
        "import %s cancelled by %s: %s deleted, %s kept (in use), %s restored",
        batch_id,
        user.username if user else "system",
        deleted,
        len(kept),
        sum(1 for c in changes if c.action == "updated"),
    )
    return batch


def rejection_reason(
    rejection: dict[str, Any], translate: Callable[[str], str] | None = None
) -> str:
    """Why a stored rejected row was refused, in the language of `translate` (a gettext)."""
    message = rejection.get("message")
    if not message or translate is None:
        return str(rejection["reason"])  # English, or a row stored before reasons had messages
    params = rejection.get("params") or {}
    return translate(message) % params if params else translate(message)


def rejected_rows_csv(batch: ImportBatch, translate: Callable[[str], str] | None = None) -> str:
    """The rejected rows as CSV: row number, column, reason (in the language of `translate`,
    else English, like the report's own column names), then the row's own values."""
    say = translate or str
    headers = list(batch.options.get("headers", []))
    width = max((len(r.get("values", [])) for r in batch.rejected), default=0)
    extra = range(len(headers), width)
    headers += [say(N_("Column %(number)s")) % {"number": i + 1} for i in extra]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([say(N_("row")), say(N_("column")), say(N_("reason")), *headers])
    for r in batch.rejected:
        # The values come from an untrusted file and are opened in a spreadsheet: escaped.
        writer.writerow(
            [
                r["row"],
                r["column"],
                escape_formula(rejection_reason(r, translate)),
                *map(escape_formula, r.get("values", [])),
            ]
        )
    return out.getvalue()
