"""Imports as background tasks of the server: started, watched and stopped by the web layer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from models.core.clock import Clock, SystemClock
from models.importing.batches import run_import
from models.importing.interruptions import mark_interrupted
from models.importing.leases import LEASE_SECONDS
from models.importing.statuses import INTERRUPTED
from models.schema.imports import ImportBatch

logger = logging.getLogger(__name__)


class ImportRunner:
    """Runs pending imports one task each; the owner calls `close()` at shutdown.

    Progress lives in the batch row (updated with every chunk), so a page polls
    `get_import(batch_id)` whether or not this process started the task.
    """

    def __init__(
        self,
        *,
        max_bytes: int,
        clock: Clock | None = None,
        shared: bool = False,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        """`shared`: other instances run imports on the same database ([cluster] enabled), so
        an unfinished import is only taken for interrupted once its lease ran out."""
        self.max_bytes = max_bytes
        self.clock = clock or SystemClock()
        self.shared = shared
        self.lease_seconds = lease_seconds
        self._tasks: dict[int, asyncio.Task[ImportBatch]] = {}
        self._watch: asyncio.Task[None] | None = None

    async def recover(self) -> int:
        """Imports a stopped process left unfinished are marked interrupted (they may be
        resumed or undone). Call once at start-up, before starting new imports; with
        `shared`, the imports of an instance that dies later are found as its lease ends."""
        count = await self._mark_interrupted()
        if self.shared and self._watch is None:
            self._watch = asyncio.create_task(self._watch_leases(), name="import-leases")
        return count

    async def _mark_interrupted(self) -> int:
        count = await mark_interrupted(self.clock, expired_only=self.shared)
        if count:
            logger.warning("%s import(s) were interrupted by a stopped process", count)
        return count

    async def _watch_leases(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self._mark_interrupted()
            except Exception as err:  # the next round tries again
                logger.warning("imports of stopped instances not checked now: %s", err)

    def start(self, batch_id: int, *, remove_file: bool = False) -> asyncio.Task[ImportBatch]:
        """Run the import in the background; `remove_file` deletes the uploaded file after."""
        if self.is_running(batch_id):
            return self._tasks[batch_id]
        task = asyncio.create_task(self._run(batch_id, remove_file), name=f"import-{batch_id}")
        self._tasks[batch_id] = task
        task.add_done_callback(self._done)
        return task

    async def _run(self, batch_id: int, remove_file: bool) -> ImportBatch:
        try:
            return await run_import(
                batch_id,
                max_bytes=self.max_bytes,
                clock=self.clock,
                lease_seconds=self.lease_seconds,
            )
        finally:
            if remove_file:
                # The batch row keeps everything the report and "cancel import" need.
                batch = await ImportBatch.get_or_none(id=batch_id)
                if batch is not None and batch.options.get("path"):
                    await asyncio.to_thread(Path(batch.options["path"]).unlink, missing_ok=True)

    def _done(self, task: asyncio.Task[ImportBatch]) -> None:
        for batch_id, known in list(self._tasks.items()):
            if known is task:
                del self._tasks[batch_id]
        if not task.cancelled() and task.exception() is not None:
            logger.error("import task %s failed", task.get_name(), exc_info=task.exception())

    def is_running(self, batch_id: int) -> bool:
        task = self._tasks.get(batch_id)
        return task is not None and not task.done()

    async def stop(self, batch_id: int) -> None:
        """Stop a running import where it is; what it wrote stays, and can be cancelled."""
        task = self._tasks.get(batch_id)
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def close(self) -> None:
        """At shutdown: the imports under way stop where they are, marked interrupted, so that
        their page (on this instance after its restart, or on another) offers to resume them."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        running = dict(self._tasks)
        for task in running.values():
            task.cancel()
        for task in running.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if running:
            await ImportBatch.filter(id__in=list(running), status="failed").update(
                error=INTERRUPTED.msgid, lease_until=None
            )
