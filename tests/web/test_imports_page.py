"""The import page in headless Chromium: upload, map, progress, report, rejected rows, cancel;
and the export downloads over HTTP with the list's filters."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest

from models.contacts import clients as client_ops
from models.schema.clients import Client
from models.schema.imports import ImportBatch
from tests.web.conftest import (
    http_login,
    login,
    screenshot,
    start_server,
    web_settings,
)
from web import app as web_app
from web.views import imports as import_views


@pytest.fixture
async def import_server(world, hub, clock, tmp_path, monkeypatch):
    # Until the section is listed in web/app.py's VIEW_MODULES, add it for these tests.
    if import_views not in web_app.VIEW_MODULES:
        monkeypatch.setattr(web_app, "VIEW_MODULES", [*web_app.VIEW_MODULES, import_views])
    runner, srv = await start_server(web_settings(tmp_path), hub, clock)
    yield srv
    await runner.cleanup()


def _xlsx(path, rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


async def test_upload_map_progress_report_and_cancel(import_server, world, page, tmp_path):
    await client_ops.create_client(
        world.ana, client_ops.ClientInput(name="Existente", phones=["+34911234567"])
    )
    rows = [["Nombre", "Móvil", "Correo", "Notas"]]
    rows += [[f"Cliente {i}", 600000000 + i, f"c{i}@example.com", "x"] for i in range(1, 41)]
    rows += [
        ["Duplicado", 34911234567, "", ""],
        ["Roto", 911234567.5, "", ""],
        ["", "", "solo@", ""],
    ]
    path = _xlsx(tmp_path / "clientes.xlsx", rows)

    await login(page, import_server.url, "ana", world.password)
    await page.goto(f"{import_server.url}/imports/new?kind=clients")
    await page.set_input_files("#f-file", str(path))
    await page.click("form.import-upload button[type=submit]")
    await page.wait_for_selector("table.preview")
    await screenshot(page, "import-mapping")
    # Suggestions from the Spanish headers, "Notas" left out; the preview shows the digits.
    assert await page.input_value("select[data-column='Nombre']") == "name"
    assert await page.input_value("select[data-column='Móvil']") == "phones"
    assert await page.input_value("select[data-column='Correo']") == "emails"
    assert await page.input_value("select[data-column='Notas']") == ""
    assert "600000001" in await page.locator("table.preview tbody tr >> nth=0").inner_text()
    await page.check("input[name=duplicates][value=update]")
    await page.click("form.import-mapping button[type=submit]")
    await page.wait_for_url(re.compile(r".*/imports/\d+$"))
    await page.wait_for_selector(".import-progress[data-finished=true]", timeout=30_000)
    await screenshot(page, "import-report")
    assert await page.locator("[data-count=created]").inner_text() == "40"
    assert await page.locator("[data-count=updated]").inner_text() == "1"
    assert await page.locator("[data-count=rejected]").inner_text() == "2"
    report = await page.locator("table.rejected").inner_text()
    # Reasons in the reader's language (Spanish here), with the cell's own text.
    assert "911234567.5, no un teléfono (tiene decimales)" in report
    assert "no es una dirección de email válida: 'solo@'" in report
    assert await Client.filter(name="Duplicado").count() == 1  # merged into "Existente"

    batch = await ImportBatch.get()
    link = page.locator(f"a[href='/imports/{batch.id}/rejected.csv']")
    assert await link.count() == 1
    # The page's context does not accept downloads: fetch the link with the page's session.
    response = await page.request.get(f"{import_server.url}/imports/{batch.id}/rejected.csv")
    text = (await response.body()).decode("utf-8-sig")
    assert text.splitlines()[0] == "fila,columna,motivo,Nombre,Móvil,Correo,Notas"
    assert "no es una dirección de email válida" in text

    page.on("dialog", lambda dialog: dialog.accept())
    await page.click("form.cancel-import button")
    await page.wait_for_selector(".flash")
    # The page speaks the user's language (Spanish here), status included.
    assert await page.locator(".import-status").inner_text() == "cancelada"
    assert (await page.locator("h1").inner_text()).startswith("Importación n.º")
    assert sorted(await Client.all().values_list("name", flat=True)) == ["Existente"]


async def test_a_bad_file_is_refused_on_the_upload_page(import_server, world, page, tmp_path):
    bad = tmp_path / "notes.csv"
    bad.write_bytes(b"")
    await login(page, import_server.url, "ana", world.password)
    await page.goto(f"{import_server.url}/imports/new?kind=leads")
    await page.set_input_files("#f-file", str(bad))
    await page.click("form.import-upload button[type=submit]")
    await page.wait_for_selector(".field-error")
    assert await page.locator(".field-error").inner_text() == "el archivo está vacío"
    assert await ImportBatch.all().count() == 0


async def test_export_downloads_follow_the_filters_and_rights(import_server, world, http):
    await client_ops.create_client(
        world.ana, client_ops.ClientInput(name="Activo", phones=["600000001"])
    )
    await client_ops.create_client(
        world.ana, client_ops.ClientInput(name="Potencial", status="potential")
    )
    await http_login(http, import_server.url, "ana", world.password)
    async with http.get(f"{import_server.url}/export/clients.csv?status=potential") as resp:
        assert resp.status == 200
        assert "attachment" in resp.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["Potencial"]
    async with http.get(f"{import_server.url}/export/clients.xlsx") as resp:
        assert resp.status == 200
        sheet = openpyxl.load_workbook(io.BytesIO(await resp.read())).active
        assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
            "Activo",
            "Potencial",
        ]
    http.cookie_jar.clear()
    await http_login(http, import_server.url, "luis", world.password)
    async with http.get(f"{import_server.url}/export/clients.csv") as resp:
        assert resp.status == 403


async def test_the_mapping_page_reads_the_file_again_with_the_users_delimiter_and_encoding(
    import_server, world, page, tmp_path
):
    # Each line holds one comma and one bar, in Windows-1252: found as one "," file.
    path = tmp_path / "raro.csv"
    path.write_bytes("Etiquetas, varias|Nombre\nvip, Madrid|Sara Gómez\n".encode("cp1252"))
    await login(page, import_server.url, "ana", world.password)
    await page.goto(f"{import_server.url}/imports/new?kind=clients")
    await page.set_input_files("#f-file", str(path))
    await page.click("form.import-upload button[type=submit]")
    await page.wait_for_selector("table.preview")
    assert await page.input_value("#f-delimiter") == "comma"
    assert await page.input_value("#f-encoding") == "cp1252"
    headers = page.locator("table.preview thead tr >> nth=0").locator("th")
    assert await headers.all_inner_texts() == ["Etiquetas", "varias|Nombre"]

    # An encoding the file is not in: the reason, in Spanish, and the file as found.
    await page.select_option("#f-encoding", "utf-8")
    await page.click("button[name=reread]")
    await page.wait_for_selector(".import-reading .field-error")
    assert await page.locator(".import-reading .field-error").inner_text() == (
        "la línea 2 no es texto utf-8: elige la codificación del archivo"
    )
    assert await page.input_value("#f-encoding") == "utf-8"  # what the user chose stays

    await page.select_option("#f-encoding", "cp1252")
    await page.select_option("#f-delimiter", "pipe")
    await page.click("button[name=reread]")
    await page.wait_for_selector("select[data-column='Nombre']")
    await screenshot(page, "import-reading-again")
    assert await page.locator("table.preview tbody tr >> nth=0").inner_text() == (
        "vip, Madrid\tSara Gómez"
    )
    assert await page.input_value("select[data-column='Nombre']") == "name"
    await page.select_option("select[data-column='Etiquetas, varias']", "tags")
    await page.click("form.import-mapping button.primary")
    await page.wait_for_selector(".import-progress[data-finished=true]", timeout=30_000)
    assert await page.locator("[data-count=created]").inner_text() == "1"
    sara = await Client.get(name="Sara Gómez").prefetch_related("tags")
    assert sorted(t.name for t in sara.tags) == ["Madrid", "vip"]
