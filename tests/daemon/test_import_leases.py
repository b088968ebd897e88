"""Imports with several instances on one database (issue 19): an instance that starts, or
checks, never takes another live instance's import for interrupted; the import of an instance
that died is marked interrupted once its lease runs out; an instance shut down mid-import
leaves it interrupted, to resume, at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from models.core.clock import FixedClock
from models.importing import (
    ImportRunner,
    can_resume,
    create_import,
    get_import,
    is_interrupted,
    resume_import,
    run_import,
)
from models.importing import engine as import_engine
from models.importing.leases import LEASE_SECONDS
from models.schema.clients import Client
from tests.daemon.test_import_resume import CHUNK, MAPPING, Killed, kill_after_chunks, rows
from tests.models.import_helpers import MAX_BYTES, write_csv


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(import_engine, "CHUNK_ROWS", CHUNK)


async def test_a_live_instances_import_is_left_alone_and_a_dead_ones_is_interrupted(
    world, tmp_path, small_chunks, monkeypatch, clock
):
    path = write_csv(tmp_path / "clientes.csv", rows(23))
    batch = await create_import(
        None, path, kind="clients", mapping=MAPPING, max_bytes=MAX_BYTES, clock=clock
    )
    other = ImportRunner(max_bytes=MAX_BYTES, clock=clock, shared=True)
    assert await other.recover() == 0  # waiting to start on the instance that recorded it
    await other.close()

    kill_after_chunks(monkeypatch, 2)  # the instance running it dies after two chunks
    with pytest.raises(Killed):
        await run_import(batch.id, max_bytes=MAX_BYTES, workers=0, clock=clock)
    monkeypatch.undo()
    monkeypatch.setattr(import_engine, "CHUNK_ROWS", CHUNK)
    running = await get_import(batch.id)
    assert running.status == "running" and running.lease_until is not None

    clock.advance(seconds=LEASE_SECONDS - 1)  # its lease has not run out yet
    early = ImportRunner(max_bytes=MAX_BYTES, clock=clock, shared=True)
    assert await early.recover() == 0
    await early.close()  # its lease watch would go on marking imports of later tests
    assert (await get_import(batch.id)).status == "running"

    clock.advance(seconds=2)
    survivor = ImportRunner(max_bytes=MAX_BYTES, clock=clock, shared=True)
    assert await survivor.recover() == 1
    await survivor.close()
    batch = await get_import(batch.id)
    assert is_interrupted(batch) and can_resume(batch)

    await resume_import(batch.id)
    batch = await run_import(batch.id, max_bytes=MAX_BYTES, workers=0, clock=clock)
    assert (batch.status, batch.processed_rows, batch.created_count) == ("done", 23, 20)
    names = await Client.all().values_list("name", flat=True)
    assert len(names) == len(set(names)) == 20


async def test_an_import_running_renews_its_lease(world, tmp_path, small_chunks, monkeypatch):
    """Run with a 3 s lease (renewed each second): after 2.5 s of a stalled chunk, another
    instance still finds it alive."""
    clock = FixedClock(datetime.now(UTC))
    path = write_csv(tmp_path / "clientes.csv", rows(23))
    batch = await create_import(
        None, path, kind="clients", mapping=MAPPING, max_bytes=MAX_BYTES, clock=clock
    )
    original = import_engine.ImportEngine._chunk
    stalled, release = asyncio.Event(), asyncio.Event()

    async def chunk(self, checked, read):
        await original(self, checked, read)
        stalled.set()
        await release.wait()

    monkeypatch.setattr(import_engine.ImportEngine, "_chunk", chunk)
    running = asyncio.create_task(
        run_import(batch.id, max_bytes=MAX_BYTES, workers=0, clock=clock, lease_seconds=3)
    )
    await stalled.wait()
    first = (await get_import(batch.id)).lease_until
    clock.advance(seconds=2.5)
    await _renewed(batch.id, first)  # from the moved clock
    other = ImportRunner(max_bytes=MAX_BYTES, clock=clock, shared=True, lease_seconds=3)
    assert await other.recover() == 0
    await other.close()
    release.set()
    monkeypatch.setattr(import_engine.ImportEngine, "_chunk", original)
    assert (await running).status == "done"


async def _renewed(batch_id: int, first) -> None:
    """Until the batch row shows a lease later than `first` (another task writes it)."""
    for _ in range(200):
        if (await get_import(batch_id)).lease_until > first:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the lease was not renewed")


async def test_an_instance_shut_down_mid_import_leaves_it_to_resume(
    world, tmp_path, small_chunks, monkeypatch
):
    path = write_csv(tmp_path / "clientes.csv", rows(23))
    batch = await create_import(None, path, kind="clients", mapping=MAPPING, max_bytes=MAX_BYTES)
    original = import_engine.ImportEngine._chunk
    first_written, go_on = asyncio.Event(), asyncio.Event()

    async def chunk(self, checked, read):
        if first_written.is_set():
            await go_on.wait()  # the second chunk is under way when the shutdown comes
        await original(self, checked, read)
        first_written.set()

    monkeypatch.setattr(import_engine.ImportEngine, "_chunk", chunk)
    runner = ImportRunner(max_bytes=MAX_BYTES, shared=True)
    await runner.recover()
    runner.start(batch.id)
    await first_written.wait()
    asyncio.get_running_loop().call_later(0.2, go_on.set)
    await runner.close()  # systemctl restart of this instance: the chunk under way ends first

    batch = await get_import(batch.id)
    assert is_interrupted(batch) and can_resume(batch)
    assert batch.processed_rows == 2 * CHUNK
    assert await Client.all().count() == 9  # the first ten rows but the rejected one
