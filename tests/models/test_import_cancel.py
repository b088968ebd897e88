"""Cancel import: what one import created goes, what it changed comes back, also after a restart."""

from __future__ import annotations

import pytest

from models.contacts import clients as client_ops
from models.core.errors import Conflict, PermissionDenied
from models.importing import (
    ImportRunner,
    cancel_import,
    create_import,
    get_import,
    rejected_rows_csv,
)
from models.schema.clients import Client, CustomField, CustomFieldValue, Email, Phone, Tag
from models.schema.leads import Lead
from tests.models.import_helpers import (
    MAX_BYTES,
    client_named,
    e164s,
    import_file,
    write_csv,
    write_xlsx,
)


async def test_cancel_after_a_restart_restores_exactly_the_previous_state(world, tmp_path):
    await CustomField.create(key="dni", label="DNI", applies_to="client")
    old = await client_ops.create_client(
        world.ana,
        client_ops.ClientInput(
            name="Ana",
            phones=["+34911234567"],
            emails=["ana@example.com"],
            tags=["old"],
            company_name="Vieja",
            custom={"dni": "111"},
        ),
    )
    keep = await client_ops.create_client(world.ana, client_ops.ClientInput(name="Untouched"))
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["nombre", "telefono", "email", "empresa", "etiquetas", "DNI"],
            ["Ana Cambiada", "911234567, 600 111 222", "nueva@example.com", "Nueva", "vip", "222"],
            ["Nuevo", "600 333 444", "", "", "vip", "333"],
        ],
    )
    runner = ImportRunner(max_bytes=MAX_BYTES)
    batch = await create_import(
        world.ana,
        path,
        kind="clients",
        duplicates="update",
        max_bytes=MAX_BYTES,
        mapping={
            "nombre": "name",
            "telefono": "phones",
            "email": "emails",
            "empresa": "company_name",
            "etiquetas": "tags",
            "DNI": "custom.dni",
        },
    )
    batch = await runner.start(batch.id)  # the import's task, run to its end
    await runner.close()
    assert (batch.status, batch.created_count, batch.updated_count) == ("done", 1, 1)
    changed = await client_named("Ana Cambiada")
    assert e164s(changed) == ["+34911234567", "+34600111222"]

    # A new process: a new runner, nothing in memory but the database.
    restarted = ImportRunner(max_bytes=MAX_BYTES)
    assert await restarted.recover() == 0
    cancelled = await cancel_import(batch.id, user=world.ana)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None

    assert await Client.filter(name="Nuevo").count() == 0
    ana = await client_named("Ana")
    assert ana.id == old.id and ana.company_name == "Vieja"
    assert e164s(ana) == ["+34911234567"]
    assert [e.address for e in ana.emails] == ["ana@example.com"]
    assert [t.name for t in ana.tags] == ["old"]
    assert await CustomFieldValue.filter(client_id=ana.id).values_list("value", flat=True) == [
        "111"
    ]
    assert await Tag.filter(name="vip").count() == 0  # invented by the import, gone with it
    assert await Client.filter(id=keep.id).count() == 1
    assert await Phone.filter(e164="+34600333444").count() == 0
    assert (await get_import(batch.id)).user.username == "ana"  # who ran it stays visible

    with pytest.raises(Conflict, match="already cancelled"):
        await cancel_import(batch.id)


async def test_an_import_interrupted_by_a_restart_is_failed_and_cancellable(world, tmp_path):
    path = write_xlsx(
        tmp_path / "c.xlsx", [["name", "phone"]] + [[f"C{i}", 600000000 + i] for i in range(30)]
    )
    batch = await create_import(
        None, path, kind="clients", mapping={"name": "name", "phone": "phones"}, max_bytes=MAX_BYTES
    )
    await batch.__class__.filter(id=batch.id).update(status="running")  # the process died here
    assert await ImportRunner(max_bytes=MAX_BYTES).recover() == 1
    batch = await get_import(batch.id)
    assert batch.status == "failed" and "restart" in batch.error
    await cancel_import(batch.id)
    assert (await get_import(batch.id)).status == "cancelled"


async def test_a_running_import_cannot_be_cancelled_and_agents_may_not_import(world, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["name"], ["Ana"]])
    with pytest.raises(PermissionDenied):
        await create_import(
            world.luis, path, kind="clients", mapping={"name": "name"}, max_bytes=MAX_BYTES
        )
    batch = await create_import(
        world.ana, path, kind="clients", mapping={"name": "name"}, max_bytes=MAX_BYTES
    )
    with pytest.raises(Conflict, match="stop it first"):
        await cancel_import(batch.id)


async def test_leads_import_with_source_import_and_cancel(world, tmp_path):
    path = write_csv(
        tmp_path / "l.csv",
        [
            ["Nombre", "Teléfono", "utm_source", "Responsable"],
            ["Lead Uno", "600 555 001", "google", "luis"],
            ["Lead Dos", "600 555 002", "", "nadie"],
        ],
    )
    batch = await import_file(
        path,
        {
            "Nombre": "name",
            "Teléfono": "phones",
            "utm_source": "utm_source",
            "Responsable": "responsible",
        },
        kind="leads",
    )
    assert (batch.created_count, batch.rejected_count) == (1, 1)
    assert "no active user named 'nadie'" in batch.rejected[0]["reason"]
    lead = await Lead.get(name="Lead Uno").prefetch_related("phones")
    assert lead.source == "import" and lead.status == "open" and lead.utm_source == "google"
    assert lead.responsible_id == world.luis.id and lead.import_batch_id == batch.id
    assert [p.e164 for p in lead.phones] == ["+34600555001"]
    report = rejected_rows_csv(batch)
    assert report.splitlines()[0] == "row,column,reason,Nombre,Teléfono,utm_source,Responsable"
    assert report.splitlines()[1].startswith("3,Responsable,no active user named 'nadie',Lead Dos")
    await cancel_import(batch.id)
    assert await Lead.all().count() == 0 and await Email.all().count() == 0


async def test_cancel_keeps_imported_clients_people_have_worked_on(world, tmp_path):
    from models.sales import deals as deal_ops

    path = write_csv(
        tmp_path / "c.csv",
        [["name", "phone"], ["Con venta", "600 000 101"], ["Sin nada", "600 000 102"]],
    )
    batch = await import_file(path, {"name": "name", "phone": "phones"}, user=world.ana)
    sold = await Client.get(name="Con venta")
    await deal_ops.create_deal(world.ana, sold.id, "Primera venta", "99")
    cancelled = await cancel_import(batch.id)
    assert cancelled.options["kept_on_cancel"] == [sold.id]
    assert await Client.all().values_list("name", flat=True) == ["Con venta"]
    kept = await client_named("Con venta")
    assert kept.import_batch_id is None and e164s(kept) == ["+34600000101"]
