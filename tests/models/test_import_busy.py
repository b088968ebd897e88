"""An import that fails because another program holds the database (issue 15).

The chunks written before the failure stay, recorded on a batch that is marked failed, says
why, and can be undone like any import. The lock is another connection's (tests/db_lock.py),
taken by the test between two chunks and released once the import has failed.
"""

from __future__ import annotations

import asyncio
import logging

from models.importing import cancel_import, create_import, run_import
from models.importing import engine as import_engine
from models.importing.engine import ImportEngine
from models.importing.statuses import error_text
from models.schema.clients import Client
from tests.db_lock import DatabaseLock, is_sqlite, short_busy_wait  # noqa: F401  (fixture)
from tests.models.import_helpers import MAX_BYTES, write_csv

BUSY_ES = (
    "la base de datos estaba ocupada (otro programa la tenía bloqueada) y no respondió a "
    "tiempo; las filas escritas antes se conservan y se pueden deshacer"
)


class _Failed(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "failed: the database is busy" in record.getMessage():
            self.seen.set()


async def test_an_import_failing_on_a_held_database_leaves_an_undoable_batch(
    world,
    tmp_path,
    monkeypatch,
    short_busy_wait,  # noqa: F811
):
    url = short_busy_wait
    monkeypatch.setattr(import_engine, "CHUNK_ROWS", 3)
    rows = [["nombre", "telefono"]] + [[f"Cliente {n}", f"600 000 {n:03d}"] for n in range(1, 9)]
    path = write_csv(tmp_path / "clientes.csv", rows)
    batch = await create_import(
        world.ana,
        path,
        kind="clients",
        mapping={"nombre": "name", "telefono": "phones"},
        max_bytes=MAX_BYTES,
    )
    lock = DatabaseLock(url, ("client",))
    write_chunk = ImportEngine._chunk
    chunks = 0

    async def chunk_after_lock(self, checked, read):
        nonlocal chunks
        chunks += 1
        if chunks == 2:  # another program takes the database after the first chunk
            await lock.take()
        await write_chunk(self, checked, read)

    monkeypatch.setattr(ImportEngine, "_chunk", chunk_after_lock)
    failed = _Failed()
    log = logging.getLogger("models.importing.batches")
    log.addHandler(failed)
    try:
        running = asyncio.ensure_future(run_import(batch.id, max_bytes=MAX_BYTES, workers=0))
        if not is_sqlite(url):
            # PostgreSQL waits for a lock as long as it is held, until its lock_timeout or an
            # operator ends the wait: the test ends it, as they would.
            for pid in await lock.wait_for_writer():
                await lock.cancel_backend(pid)
        await asyncio.wait_for(failed.seen.wait(), 20)
        await lock.release()
        result = await asyncio.wait_for(running, 60)
    finally:
        await lock.release()
        log.removeHandler(failed)

    assert result.status == "failed"
    assert error_text(result.error, "es") == BUSY_ES
    assert (result.processed_rows, result.created_count) == (3, 3)
    names = await Client.all().order_by("name").values_list("name", flat=True)
    assert names == ["Cliente 1", "Cliente 2", "Cliente 3"]

    undone = await cancel_import(batch.id, user=world.ana)
    assert undone.status == "cancelled"
    assert not await Client.exists()
