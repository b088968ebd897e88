"""Importing from .xlsx workbooks written by openpyxl, with text and numeric phone cells (C9)."""

from __future__ import annotations

import zipfile

import pytest

from models.importing import FileRejected, preview_import
from models.schema.clients import Client
from tests.models.import_helpers import MAX_BYTES, client_named, e164s, import_file, write_xlsx


async def test_numeric_phone_cells_keep_every_digit(world, tmp_path):
    path = write_xlsx(
        tmp_path / "c.xlsx",
        [
            ["Nombre", "Móvil", "email"],
            ["Float", 34911234567.0, "a@example.com"],
            ["Scientific", 3.4911234568e10, ""],
            ["Int", 612345678, ""],
            ["Text", "+34 911 234 569, 600 000 002", ""],
        ],
    )
    preview = await preview_import(path, kind="clients", max_bytes=MAX_BYTES)
    assert preview.format == "xlsx"
    assert preview.suggested == {"Nombre": "name", "Móvil": "phones", "email": "emails"}
    assert preview.rows[0] == ["Float", "34911234567", "a@example.com"]
    batch = await import_file(path, preview.suggested)
    assert batch.created_count == 4 and batch.rejected_count == 0
    assert e164s(await client_named("Float")) == ["+34911234567"]
    assert e164s(await client_named("Scientific")) == ["+34911234568"]
    assert e164s(await client_named("Int")) == ["+34612345678"]
    assert e164s(await client_named("Text")) == ["+34911234569", "+34600000002"]


async def test_numbers_that_cannot_be_phones_are_rejected_with_the_reason(world, tmp_path):
    path = write_xlsx(
        tmp_path / "c.xlsx",
        [
            ["name", "phone"],
            ["Fraction", 911234567.5],
            ["Rounded", 1.2345678901234567e18],
            ["Fine", 600000003],
        ],
    )
    batch = await import_file(path, {"name": "name", "phone": "phones"})
    assert batch.created_count == 1
    reasons = {r["row"]: r["reason"] for r in batch.rejected}
    assert "fraction" in reasons[2]
    assert "more than 15 digits" in reasons[3]
    assert await Client.filter(name__in=["Fraction", "Rounded"]).count() == 0


async def test_formulas_are_never_evaluated(world, tmp_path):
    path = write_xlsx(
        tmp_path / "c.xlsx", [["name", "company"], ["Ana", "=1+2"], ["Bea", '=HYPERLINK("x")']]
    )
    batch = await import_file(path, {"name": "name", "company": "company_name"})
    assert batch.created_count == 2
    # openpyxl stores no cached value: the cell reads as empty, the formula is not run.
    assert [c.company_name for c in await Client.all().order_by("id")] == ["", ""]


async def test_a_sheet_hundreds_of_columns_wide_is_refused(world, tmp_path):
    path = write_xlsx(tmp_path / "wide.xlsx", [["name"] + [f"c{i}" for i in range(250)], ["Ana"]])
    with pytest.raises(FileRejected, match="251 columns wide"):
        await preview_import(path, kind="clients", max_bytes=MAX_BYTES)


async def test_a_zip_that_is_not_a_workbook_is_refused(world, tmp_path):
    path = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(FileRejected, match="not an Excel .xlsx"):
        await preview_import(path, kind="clients", max_bytes=MAX_BYTES)


async def test_a_truncated_workbook_is_refused(world, tmp_path):
    good = write_xlsx(tmp_path / "c.xlsx", [["name"], ["Ana"]])
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(good.read_bytes()[:300])
    with pytest.raises(FileRejected, match="damaged|cannot be read"):
        await preview_import(broken, kind="clients", max_bytes=MAX_BYTES)


async def test_a_workbook_whose_first_row_is_data_has_no_header(world, tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", [["Ana", 600000001], ["Bea", 600000002]])
    with pytest.raises(FileRejected, match="no header row"):
        await preview_import(path, kind="clients", max_bytes=MAX_BYTES)
