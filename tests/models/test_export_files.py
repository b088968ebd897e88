"""Export of clients, leads and deals to CSV and .xlsx with the page's filters (C10)."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook

from models.contacts import clients as client_ops
from models.core.errors import PermissionDenied
from models.importing import preview_import
from models.reporting.export import ExportFilters, export_csv_chunks, export_to_path
from models.sales import deals as deal_ops
from models.sales import leads as lead_ops
from models.schema.clients import Client
from tests.models.import_helpers import MAX_BYTES, client_named, e164s, import_file


async def _clients(world):
    await client_ops.create_client(
        world.ana,
        client_ops.ClientInput(
            name='=HYPERLINK("http://evil")',
            phones=["+34911234567", "612345678"],
            emails=["a@example.com"],
            company_name="@Acme",
            tags=["vip"],
        ),
    )
    await client_ops.create_client(
        world.luis,
        client_ops.ClientInput(name="Luis's client", company_name="-5+3", status="potential"),
    )


def _read_csv(path):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


async def test_csv_escapes_formulas_and_imports_back_unchanged(world, tmp_path):
    await _clients(world)
    path = tmp_path / "clients.csv"
    assert await export_to_path(world.ana, "clients", "csv", path) == 2
    rows = _read_csv(path)
    assert rows[0][:9] == [
        "ID",
        "Name",
        "Phones",
        "Emails",
        "Company",
        "Status",
        "Type",
        "Tags",
        "Responsible",
    ]
    first = rows[1]
    assert first[1] == '\'=HYPERLINK("http://evil")'
    assert first[2] == "'+34911234567, +34612345678"
    assert first[4] == "'@Acme" and first[7] == "vip" and first[8] == "ana"
    assert rows[2][4] == "'-5+3"

    # The same file comes back in: the apostrophes are taken off again.
    await Client.all().delete()
    preview = await preview_import(path, kind="clients", max_bytes=MAX_BYTES)
    assert (
        preview.suggested["Phones"] == "phones" and preview.suggested["Company"] == "company_name"
    )
    mapping = {h: t for h, t in preview.suggested.items() if h != "ID"}
    batch = await import_file(path, mapping)
    assert batch.created_count == 2
    back = await client_named('=HYPERLINK("http://evil")')
    assert back.company_name == "@Acme" and e164s(back) == ["+34911234567", "+34612345678"]


async def test_xlsx_keeps_text_as_text_never_a_formula(world, tmp_path):
    await _clients(world)
    path = tmp_path / "clients.xlsx"
    assert await export_to_path(world.ana, "clients", "xlsx", path) == 2
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == '=HYPERLINK("http://evil")'
    assert sheet.cell(row=2, column=2).data_type == "s"
    assert rows[1][2] == "+34911234567, +34612345678"


async def test_the_page_filters_and_visibility_apply(world, tmp_path):
    await _clients(world)
    chunks = [
        c async for c in export_csv_chunks(world.ana, "clients", ExportFilters(status="potential"))
    ]
    text = b"".join(chunks).decode("utf-8-sig")
    assert "Luis's client" in text and "HYPERLINK" not in text
    for filters, shown, hidden in (
        (ExportFilters(tag="vip"), "HYPERLINK", "Luis's client"),
        (ExportFilters(query="luis"), "Luis's client", "HYPERLINK"),
        (ExportFilters(query="612345678"), "HYPERLINK", "Luis's client"),
    ):
        chunks = [c async for c in export_csv_chunks(world.ana, "clients", filters)]
        text = b"".join(chunks).decode("utf-8-sig")
        assert shown in text and hidden not in text, filters
        assert text.count("HYPERLINK") <= 1  # one row per client, never repeated
    # An agent without the right may not export at all.
    with pytest.raises(PermissionDenied):
        await export_to_path(world.luis, "clients", "csv", tmp_path / "x.csv")


async def test_leads_and_deals_export(world, tmp_path):
    await lead_ops.create_lead(world.ana, lead_ops.LeadInput(name="Lead Uno", phones=["600555001"]))
    client = await client_ops.create_client(world.ana, client_ops.ClientInput(name="Cliente"))
    await deal_ops.create_deal(world.ana, client.id, "Venta", "120.50")
    leads = tmp_path / "leads.csv"
    assert await export_to_path(world.ana, "leads", "csv", leads) == 1
    lead_rows = _read_csv(leads)
    assert lead_rows[1][1] == "Lead Uno" and lead_rows[1][2] == "'+34600555001"
    deals = tmp_path / "deals.xlsx"
    assert await export_to_path(None, "deals", "xlsx", deals) == 1
    rows = list(load_workbook(deals).active.iter_rows(values_only=True))
    assert rows[1][1:5] == ("Venta", "Cliente", "new", "120.50")
