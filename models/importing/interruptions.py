"""Imports a stopped process left half-way (issue 19, item 5): found, then resumed or undone.

A process that stops while importing (killed, or shut down) leaves its batch unfinished; it
is marked interrupted at the next start, or, with several instances, when its lease runs out
(models/importing/leases.py). Its page then offers to resume it where it stopped (the rows
its committed chunks wrote are counted in `processed_rows` and are not written again) or to
undo it (`cancel_import`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from tortoise.expressions import Q

from models.core.clock import Clock, SystemClock
from models.core.errors import Conflict, msg
from models.importing.batches import get_import
from models.importing.leases import UNFINISHED, lease_end
from models.importing.statuses import INTERRUPTED, status_label
from models.people.permissions import require
from models.schema.imports import ImportBatch
from models.schema.users import User

logger = logging.getLogger(__name__)


def is_interrupted(batch: ImportBatch) -> bool:
    """Whether a restart stopped this import half-way (it may be resumed or undone)."""
    return batch.status == "failed" and batch.error == INTERRUPTED.msgid


def _file_unchanged(batch: ImportBatch) -> bool:
    """Whether the import's file is still there as it was read (the rows written so far are
    its first rows: another file, or this one edited, would not carry on from them)."""
    described = batch.options.get("table") or {}
    path = batch.options.get("path")
    if not path or "size" not in described:
        return False
    try:
        stat = Path(path).stat()
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime_ns) == (described["size"], described.get("mtime_ns"))


async def interrupted_files() -> set[Path]:
    """The files of the imports a restart interrupted: kept while they may be resumed."""
    batches = await ImportBatch.filter(status="failed", error=INTERRUPTED.msgid).only(
        "id", "options"
    )
    return {Path(b.options["path"]) for b in batches if b.options.get("path")}


def can_resume(batch: ImportBatch) -> bool:
    """Whether `resume_import` would take this import: interrupted, with its file unchanged."""
    return is_interrupted(batch) and _file_unchanged(batch)


async def resume_import(batch_id: int, *, user: User | None = None) -> ImportBatch:
    """Make an import a restart interrupted wait to start again (`run_import` carries it on
    after the rows it had written; nothing is written twice)."""
    if user is not None:
        require(user, "import_export")
    batch = await get_import(batch_id)
    if not is_interrupted(batch):
        raise Conflict(
            msg(
                "import %(id)s is %(status)s: only an import a restart interrupted is resumed",
                id=batch_id,
                status=status_label(batch.status),
            )
        )
    if not _file_unchanged(batch):
        raise Conflict(
            msg(
                "the file of import %(id)s is gone or has changed since: it cannot be resumed, "
                "only undone",
                id=batch_id,
            )
        )
    # Conditional: two clicks (or two servers) start it once.
    updated = await ImportBatch.filter(
        id=batch_id, status="failed", error=INTERRUPTED.msgid
    ).update(status="pending", error="", finished_at=None, lease_until=lease_end(SystemClock()))
    if not updated:
        raise Conflict(msg("import %(id)s is being resumed already", id=batch_id))
    logger.info(
        "import %s to resume after row %s by %s",
        batch_id,
        batch.processed_rows,
        user.username if user else "system",
    )
    return await get_import(batch_id)


async def mark_interrupted(clock: Clock | None = None, *, expired_only: bool = False) -> int:
    """Imports left unfinished by a stopped process become failed, interrupted (and may be
    resumed or undone). At the start of the only process, all of them; where other processes
    may be running imports (several instances, `expired_only`), those whose lease ran out."""
    now = (clock or SystemClock()).now()
    unfinished = ImportBatch.filter(status__in=UNFINISHED)
    if expired_only:
        unfinished = unfinished.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    return await unfinished.update(
        status="failed", error=INTERRUPTED.msgid, finished_at=now, lease_until=None
    )
