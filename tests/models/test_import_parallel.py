"""Big files are checked in worker processes: same result as in one process, in file order."""

from __future__ import annotations

import pytest

from models.importing import cancel_import, create_import, run_import
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
