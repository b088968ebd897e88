"""Duplicates by E.164 number or email, in the database and in the file: skip, update, create."""

from __future__ import annotations

from models.contacts import clients as client_ops
from models.importing import dry_run_import
from models.schema.clients import Client
from tests.models.import_helpers import MAX_BYTES, client_named, e164s, import_file, write_csv

MAPPING = {"name": "name", "phone": "phones", "email": "emails", "company": "company_name"}
ROWS = [
    ["name", "phone", "email", "company"],
    ["Ana Nueva", "911 234 567", "", "Nueva SA"],  # same number as the existing Ana, other format
    ["Pedro", "", "PEDRO@example.com", ""],  # same email as the existing Pedro
    ["Zoe", "600 000 009", "", ""],
    ["Zoe again", "+34600000009", "zoe@example.com", ""],  # same number as the row above
]


async def _existing(world):
    await client_ops.create_client(
        world.ana, client_ops.ClientInput(name="Ana", phones=["+34911234567"])
    )
    await client_ops.create_client(
        world.ana, client_ops.ClientInput(name="Pedro", emails=["pedro@example.com"])
    )


async def test_skip_leaves_existing_clients_alone(world, tmp_path):
    await _existing(world)
    batch = await import_file(write_csv(tmp_path / "c.csv", ROWS), MAPPING, duplicates="skip")
    assert (batch.created_count, batch.skipped_count, batch.updated_count) == (1, 3, 0)
    assert sorted(await Client.all().values_list("name", flat=True)) == ["Ana", "Pedro", "Zoe"]
    assert (await client_named("Ana")).company_name == ""


async def test_update_merges_rows_into_the_clients_found(world, tmp_path):
    await _existing(world)
    batch = await import_file(write_csv(tmp_path / "c.csv", ROWS), MAPPING, duplicates="update")
    assert (batch.created_count, batch.updated_count) == (1, 3)
    ana = await client_named("Ana Nueva")
    assert ana.company_name == "Nueva SA" and e164s(ana) == ["+34911234567"]
    zoe = await client_named("Zoe again")  # the later row of the file is merged into the first
    assert e164s(zoe) == ["+34600000009"] and [e.address for e in zoe.emails] == ["zoe@example.com"]
    assert await Client.all().count() == 3


async def test_create_makes_new_clients_even_for_duplicates(world, tmp_path):
    await _existing(world)
    batch = await import_file(write_csv(tmp_path / "c.csv", ROWS), MAPPING, duplicates="create")
    assert batch.created_count == 4
    assert await Client.all().count() == 6


async def test_a_dry_run_reports_and_changes_nothing(world, tmp_path):
    await _existing(world)
    counts = await dry_run_import(
        write_csv(tmp_path / "c.csv", ROWS),
        kind="clients",
        mapping=MAPPING,
        duplicates="update",
        max_bytes=MAX_BYTES,
    )
    assert (counts.created, counts.updated, counts.rejected) == (1, 3, 0)
    assert sorted(await Client.all().values_list("name", flat=True)) == ["Ana", "Pedro"]
    assert (await client_named("Ana")).company_name == ""


async def test_imported_clients_are_found_by_any_word_of_their_name(world, tmp_path):
    rows = [
        ["name", "phone"],
        ["Bodegas Ribera Alta", "600 111 222"],
        ["José Núñez", "+44 20 7946 0958"],
    ]
    await import_file(write_csv(tmp_path / "c.csv", rows), {"name": "name", "phone": "phones"})
    found, total = await client_ops.list_clients(world.ana, query="ribera")
    assert [c.name for c in found] == ["Bodegas Ribera Alta"] and total == 1
    found, _ = await client_ops.list_clients(world.ana, query="nunez")
    assert [c.name for c in found] == ["José Núñez"]


async def test_duplicates_in_later_chunks_are_found_in_what_earlier_chunks_wrote(
    world, tmp_path, monkeypatch
):
    """A real import remembers nothing between chunks: a row in a later chunk finds what
    earlier ones created or added to an existing client in the database."""
    from models.importing import cancel_import
    from models.importing import engine as import_engine

    monkeypatch.setattr(import_engine, "CHUNK_ROWS", 1)
    await _existing(world)
    rows = [
        *ROWS,
        # A number the update of "Ana Nueva" adds to the existing Ana, two chunks earlier:
        ["Ana otra vez", "+34 911 234 567, 600 000 555", "", ""],
        ["Ana por su móvil", "600 000 555", "ana@example.com", ""],
    ]
    batch = await import_file(write_csv(tmp_path / "c.csv", rows), MAPPING, duplicates="update")
    assert (batch.created_count, batch.updated_count) == (1, 5)
    ana = await client_named("Ana por su móvil")
    assert e164s(ana) == ["+34911234567", "+34600000555"]
    assert [e.address for e in ana.emails] == ["ana@example.com"]
    zoe = await client_named("Zoe again")
    assert e164s(zoe) == ["+34600000009"] and [e.address for e in zoe.emails] == ["zoe@example.com"]
    assert await Client.all().count() == 3

    await cancel_import(batch.id)
    ana = await client_named("Ana")  # the existing client as it was before the import
    assert e164s(ana) == ["+34911234567"] and list(ana.emails) == [] and ana.company_name == ""
    assert sorted(await Client.all().values_list("name", flat=True)) == ["Ana", "Pedro"]
