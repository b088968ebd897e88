"""An import a crash interrupted (issue 19, item 5): the process dies between two chunks, as a
kill leaves it (the batch still `running`, its committed chunks in the database); the next
start marks it interrupted. It can then be resumed where it stopped, writing no row twice and
ending with the report an uninterrupted import gives, or undone."""

from __future__ import annotations

import os

import pytest

from models.contacts import clients as client_ops
from models.core.errors import Conflict
from models.importing import (
    ImportRunner,
    can_resume,
    cancel_import,
    create_import,
    dry_run_import,
    get_import,
    is_interrupted,
    resume_import,
    run_import,
)
from models.importing import engine as import_engine
from models.importing.statuses import INTERRUPTED
from models.schema.clients import Client
from models.schema.imports import ImportBatch
from tests.models.import_helpers import MAX_BYTES, client_named, e164s, write_csv

MAPPING = {"Nombre": "name", "Teléfono": "phones"}
CHUNK = 5


class Killed(BaseException):
    """The process ends here: nothing after this point runs (no `except Exception`, no
    "stopped" written by a cancelled task)."""


def rows(count: int) -> list[list[str]]:
    """`count` clients; rows 4 and 18 of the file have no name (rejected), and row 16 repeats
    row 3's number (a duplicate across the interruption)."""
    body = [[f"Cliente {n:02d}", f"+34 600 000 {n:03d}"] for n in range(count)]
    body[2][0] = ""  # row 4 of the file (the header is row 1)
    body[16][0] = ""
    body[14][1] = "+34 600 000 001"  # row 16: the number of row 3
    return [["Nombre", "Teléfono"], *body]


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(import_engine, "CHUNK_ROWS", CHUNK)


def kill_after_chunks(monkeypatch, count: int) -> None:
    """The process dies right after the `count`-th chunk is committed."""
    original = import_engine.ImportEngine._chunk
    done = 0

    async def chunk(self, checked, read):
        nonlocal done
        await original(self, checked, read)
        done += 1
        if done == count:
            raise Killed

    monkeypatch.setattr(import_engine.ImportEngine, "_chunk", chunk)


async def interrupted_import(path, monkeypatch, *, workers: int = 0, duplicates: str = "skip"):
    """An import killed after two chunks, then the next start of the server."""
    batch = await create_import(
        None, path, kind="clients", mapping=MAPPING, duplicates=duplicates, max_bytes=MAX_BYTES
    )
    kill_after_chunks(monkeypatch, 2)
    with pytest.raises(Killed):
        await run_import(batch.id, max_bytes=MAX_BYTES, workers=workers)
    monkeypatch.undo()  # the new process: the engine as it is
    monkeypatch.setattr(import_engine, "CHUNK_ROWS", CHUNK)
    assert (await get_import(batch.id)).status == "running"  # as the kill left it
    assert await ImportRunner(max_bytes=MAX_BYTES).recover() == 1
    return await get_import(batch.id)


@pytest.mark.parametrize("workers", [0, 1], ids=["in-a-thread", "in-worker-processes"])
async def test_an_interrupted_import_resumes_where_it_stopped_and_writes_nothing_twice(
    world, tmp_path, small_chunks, monkeypatch, workers
):
    if workers:
        monkeypatch.setattr(import_engine, "PARALLEL_MIN_ROWS", 1)
    path = write_csv(tmp_path / "clientes.csv", rows(23))
    expected = await dry_run_import(path, kind="clients", mapping=MAPPING, max_bytes=MAX_BYTES)
    batch = await interrupted_import(path, monkeypatch, workers=workers)
    if workers:
        monkeypatch.setattr(import_engine, "PARALLEL_MIN_ROWS", 1)
    assert is_interrupted(batch) and can_resume(batch)
    assert batch.error == INTERRUPTED.msgid
    assert batch.processed_rows == 2 * CHUNK
    assert await Client.all().count() == 9  # the first ten rows but the rejected one

    await resume_import(batch.id, user=world.ana)
    batch = await run_import(batch.id, max_bytes=MAX_BYTES, workers=workers)

    assert (batch.status, batch.error) == ("done", "")
    report = (
        batch.processed_rows,
        batch.created_count,
        batch.skipped_count,
        batch.rejected_count,
    )
    assert report == (23, expected.created, expected.skipped, expected.rejected) == (23, 20, 1, 2)
    names = await Client.all().values_list("name", flat=True)
    assert len(names) == len(set(names)) == 20  # nobody twice
    # The rejected rows of both runs are in the report (the first run's were not stored yet).
    assert [r["row"] for r in batch.rejected] == [r.row for r in expected.rejections] == [4, 18]
    assert e164s(await client_named("Cliente 01")) == ["+34600000001"]
    assert not await Client.filter(name="Cliente 14").exists()  # row 16: a duplicate, skipped


async def test_an_interrupted_import_can_be_undone(world, tmp_path, small_chunks, monkeypatch):
    before = await client_ops.create_client(
        world.ana, client_ops.ClientInput(name="Ya estaba", phones=["+34 600 000 005"])
    )
    path = write_csv(tmp_path / "clientes.csv", rows(23))
    batch = await interrupted_import(path, monkeypatch, duplicates="update")
    assert await Client.filter(import_batch_id=batch.id).count() == 8
    assert (await Client.get(id=before.id)).name == "Cliente 05"  # merged into by row 7

    batch = await cancel_import(batch.id, user=world.ana)

    assert batch.status == "cancelled"
    assert await Client.all().values_list("name", flat=True) == ["Ya estaba"]
    restored = await client_named("Ya estaba")
    assert (restored.id, e164s(restored)) == (before.id, ["+34600000005"])
    with pytest.raises(Conflict):
        await resume_import(batch.id)


async def test_undoing_a_resumed_import_restores_what_both_runs_changed(
    world, tmp_path, small_chunks, monkeypatch
):
    """An existing client updated before the crash and again after the resume gets its own
    values back (each run kept what it found before changing it)."""
    original = await client_ops.create_client(
        world.ana, client_ops.ClientInput(name="Original", phones=["+34 699 999 999"])
    )
    body = rows(23)
    body[4] = ["Renamed once", "+34 699 999 999"]  # row 6, first run: merged into Original
    body[20] = ["Renamed twice", "+34 699 999 999"]  # row 22, after the resume: merged again
    path = write_csv(tmp_path / "clientes.csv", body)
    batch = await interrupted_import(path, monkeypatch, duplicates="update")
    await resume_import(batch.id)
    batch = await run_import(batch.id, max_bytes=MAX_BYTES, workers=0)
    # Twice into Original, once (row 16) into Cliente 01, which the first run created.
    assert (batch.status, batch.updated_count) == ("done", 3)
    assert (await Client.get(id=original.id)).name == "Renamed twice"

    await cancel_import(batch.id)
    assert await Client.all().values_list("id", "name") == [(original.id, "Original")]


async def test_only_an_interrupted_import_whose_file_is_unchanged_resumes(
    world, tmp_path, small_chunks, monkeypatch
):
    finished = await create_import(
        None,
        write_csv(tmp_path / "otro.csv", rows(23)),
        kind="clients",
        mapping=MAPPING,
        max_bytes=MAX_BYTES,
    )
    finished = await run_import(finished.id, max_bytes=MAX_BYTES, workers=0)
    assert not can_resume(finished)
    with pytest.raises(Conflict, match="only an import a restart interrupted"):
        await resume_import(finished.id)

    path = write_csv(tmp_path / "clientes.csv", rows(23))
    batch = await interrupted_import(path, monkeypatch)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("Cliente nuevo,+34 600 000 999\n")  # edited after the crash
    assert not can_resume(batch)
    with pytest.raises(Conflict, match="gone or has changed"):
        await resume_import(batch.id)
    os.unlink(path)
    assert not can_resume(await get_import(batch.id))

    # Resumed once: a second click finds it waiting already.
    again = await interrupted_import(write_csv(tmp_path / "b.csv", rows(23)), monkeypatch)
    await resume_import(again.id)
    with pytest.raises(Conflict):
        await resume_import(again.id)
    assert (await ImportBatch.get(id=again.id)).status == "pending"
