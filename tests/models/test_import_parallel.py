"""Big files are checked in worker processes: same result as in one process, in file order."""

from __future__ import annotations

import asyncio
import os

import pytest

from models.importing import cancel_import, create_import, get_import, run_import
from models.importing import engine as import_engine
from models.schema.clients import Client, Phone
from tests.models.import_helpers import MAX_BYTES, write_csv


@pytest.mark.parametrize("workers", [0, 2])
async def test_worker_processes_give_the_same_import(world, tmp_path, monkeypatch, workers):
    monkeypatch.setattr(import_engine, "PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(import_engine, "CHUNK_ROWS", 40)
    rows = [["nombre", "telefono", "email"]]
    rows += [
        [f"Cliente {i:03}", f"6{i:08}, +44 20 7946 {i:04}", f"c{i}@example.com"] for i in range(300)
    ]
    rows += [["Cliente 005 bis", "600000005", ""], ["Malo", "", "no-es-correo"]]
    path = write_csv(tmp_path / "big.csv", rows)
    batch = await create_import(
        world.ana,
        path,
        kind="clients",
        duplicates="update",
        max_bytes=MAX_BYTES,
        mapping={"nombre": "name", "telefono": "phones", "email": "emails"},
    )
    batch = await run_import(batch.id, max_bytes=MAX_BYTES, workers=workers)
    assert batch.status == "done", batch.error
    assert (batch.created_count, batch.updated_count, batch.rejected_count) == (300, 1, 1)
    assert batch.rejected[0]["row"] == 303
    names = await Client.all().order_by("id").values_list("name", flat=True)
    assert names[:3] == ["Cliente 000", "Cliente 001", "Cliente 002"]
    assert names[5] == "Cliente 005 bis"  # the later row merged into the earlier one
    assert await Phone.all().count() == 600
    await cancel_import(batch.id)
    assert await Client.all().count() == 0


async def _pending_parallel_import(world, tmp_path, monkeypatch, chunk_rows: int):
    """A recorded import of 3,000 clients that worker processes check in chunks."""
    monkeypatch.setattr(import_engine, "PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(import_engine, "CHUNK_ROWS", chunk_rows)
    rows = [["nombre", "telefono"]] + [[f"Cliente {i}", f"6{i:08}"] for i in range(3000)]
    path = write_csv(tmp_path / "big.csv", rows)
    batch = await create_import(
        world.ana,
        path,
        kind="clients",
        max_bytes=MAX_BYTES,
        mapping={"nombre": "name", "telefono": "phones"},
    )
    return path, batch


async def test_a_worker_that_fails_fails_the_import_with_its_reason(world, tmp_path, monkeypatch):
    path, batch = await _pending_parallel_import(world, tmp_path, monkeypatch, chunk_rows=100)
    # The worker reads the file as described when it was uploaded: one that changed under
    # it without changing size or time (bytes that are not UTF-8 at its end) fails there.
    stat = path.stat()
    path.write_bytes(path.read_bytes()[:-8] + b"\xff\xfe\xfd\xfc\xfb\xfa\r\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    batch = await run_import(batch.id, max_bytes=MAX_BYTES, workers=1)
    assert batch.status == "failed"
    assert "UnicodeDecodeError" in batch.error
    assert 0 < batch.processed_rows < 3000  # whole chunks before the bad block were written
    assert await Client.all().count() == batch.created_count
    await cancel_import(batch.id)
    assert await Client.all().count() == 0


async def test_stopping_a_parallel_import_ends_its_workers(world, tmp_path, monkeypatch):
    import multiprocessing

    from models.importing import ImportRunner

    _, batch = await _pending_parallel_import(world, tmp_path, monkeypatch, chunk_rows=50)
    runner = ImportRunner(max_bytes=MAX_BYTES)
    runner.start(batch.id)
    for _ in range(200):  # until the first chunks are written
        await asyncio.sleep(0.05)
        if (await Client.all().count()) > 0:
            break
    await runner.stop(batch.id)
    assert not multiprocessing.active_children()
    batch = await get_import(batch.id)
    assert batch.status == "failed" and batch.error == "stopped before the end"
    await cancel_import(batch.id)
    assert await Client.all().count() == 0


def test_a_worker_process_loads_no_orm():
    """A worker imports only what checks rows, so an import's first chunk comes sooner and
    the worker's memory stays small (it starts fresh: "spawn")."""
    import subprocess
    import sys

    code = (
        "import sys, models.importing.parallel; "
        "print(sorted(m for m in ('tortoise', 'aiohttp', 'models.importing.batches') "
        "if m in sys.modules))"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]"


def test_the_package_names_every_export():
    import models.importing as importing

    assert sorted(importing.__all__) == sorted(importing._EXPORTS)  # the two lists agree
    for name in importing.__all__:
        assert getattr(importing, name) is not None, name
