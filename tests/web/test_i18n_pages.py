"""What a Spanish user reads where English used to leak: refusals and missing pages, the
auto-dialer's statuses, an import's status and error line, and the headers of an export."""

from __future__ import annotations

import csv
import io
import re

import openpyxl

from models import importing
from models.contacts.clients import ClientInput, create_client
from models.schema.imports import ImportBatch
from models.schema.users import User
from tests.web.conftest import csrf_from, http_login

JSON = {"Accept": "application/json"}


async def test_a_spanish_agent_refused_a_page_reads_why_in_spanish(world, world_server, http):
    await http_login(http, world_server.url, "luis", world.password)  # an agent, in Spanish
    async with http.get(f"{world_server.url}/settings/telephony") as resp:
        assert resp.status == 403
        page = await resp.text()
    assert "403 · Acceso denegado" in page
    assert "No tienes acceso a esta página." in page
    # The right is named in Spanish too, not only the sentence around it.
    assert "tu grupo no lo permite (Cambiar los ajustes de compañía, telefonía y grupos)" in page
    assert "Access denied" not in page

    async with http.get(f"{world_server.url}/imports/new", headers=JSON) as resp:
        assert resp.status == 403
        assert await resp.json() == {
            "error": "tu grupo no lo permite (Importar y exportar clientes y leads)"
        }

    async with http.get(f"{world_server.url}/no/such/page") as resp:
        assert resp.status == 404
        page = await resp.text()
    assert "404 · No encontrado" in page and "Esta página no existe." in page


async def test_an_english_user_reads_the_same_refusal_in_english(world, world_server, http):
    await User.filter(id=world.luis.id).update(language="en")
    await http_login(http, world_server.url, "luis", world.password)
    async with http.get(f"{world_server.url}/imports/new", headers=JSON) as resp:
        assert await resp.json() == {
            "error": "your group does not allow this (Import and export clients and leads)"
        }


async def test_the_dialer_page_and_its_json_show_spanish_statuses(world, world_server, http):
    url = world_server.url
    await http_login(http, url, "luis", world.password)
    async with http.get(f"{url}/clients") as resp:
        headers = {"X-CSRF-Token": csrf_from(await resp.text()), **JSON}
    async with http.post(
        f"{url}/api/dialer/lists", json={"numbers": ["+34911000001", "12"]}, headers=headers
    ) as resp:
        created = await resp.json()
    assert created["name"].startswith("Lista del ")  # a default name in its creator's language
    assert created["status_label"] == "preparada"
    assert [(e["state_label"], e["result_label"], e["reason"]) for e in created["entries"]] == [
        ("por marcar", "", ""),
        ("omitido", "número no válido", "no es un número de teléfono válido"),
    ]
    list_id = created["id"]
    async with http.post(f"{url}/api/dialer/lists/{list_id}/start", headers=headers) as resp:
        assert (await resp.json())["status_label"] == "en marcha"
    # A status quoted in a refusal is the Spanish word, not the code "running".
    async with http.post(f"{url}/api/dialer/lists/{list_id}/resume", headers=headers) as resp:
        assert resp.status == 409
        assert (await resp.json())["error"] == (
            "la lista está en marcha: solo se reanuda una lista en pausa"
        )
    async with http.get(f"{url}/api/dialer/lists", headers=JSON) as resp:
        polled = await resp.json()
    assert [d["status_label"] for d in polled["lists"]] == ["en marcha"]

    async with http.get(f"{url}/dialer/{list_id}") as resp:
        page = await resp.text()
    assert 'id="dialer-status-label">en marcha</span>' in page
    assert "0 llamados (0 atendidos), 1 por marcar, 1 omitidos" in page
    assert "por marcar" in page and "número no válido" in page
    assert "(no es un número de teléfono válido)" in page
    # Codes stay in attributes (for the page's script); what people read is Spanish.
    assert "running" not in re.sub(r'data-[a-z-]+="[^"]*"', "", page)


async def test_an_import_cut_by_a_restart_says_so_in_spanish(world, world_server, http, clock):
    batch = await ImportBatch.create(file_name="clientes.csv", status="running", user=world.ana)
    await importing.mark_interrupted(clock)
    await http_login(http, world_server.url, "ana", world.password)
    async with http.get(f"{world_server.url}/imports/{batch.id}/progress", headers=JSON) as resp:
        progress = await resp.json()
    assert progress["labels"]["status"] == "fallida"
    assert progress["error"] == "interrumpida por un reinicio"
    async with http.get(f"{world_server.url}/imports/new") as resp:
        page = await resp.text()
    assert '<span class="badge">fallida</span>' in page


async def test_a_spanish_export_has_spanish_headers(world, world_server, http):
    await create_client(world.ana, ClientInput(name="Bodegas Rioja", phones=["600000001"]))
    await http_login(http, world_server.url, "ana", world.password)
    async with http.get(f"{world_server.url}/export/clients.csv") as resp:
        rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[0] == [
        "ID",
        "Nombre",
        "Teléfonos",
        "Correo electrónico",
        "Empresa",
        "Estado",
        "Tipo",
        "Etiquetas",
        "Responsable",
        "Creado el",
    ]
    assert rows[1][1] == "Bodegas Rioja"
    async with http.get(f"{world_server.url}/export/deals.xlsx") as resp:
        book = openpyxl.load_workbook(io.BytesIO(await resp.read()))
    assert book.sheetnames == ["Acuerdos"]
    header = next(book.active.iter_rows(max_row=1, values_only=True))
    assert list(header) == [
        "ID",
        "Título",
        "Cliente",
        "Estado",
        "Importe",
        "Moneda",
        "Responsable",
        "Creado el",
        "Cerrado el",
    ]

    await User.filter(id=world.ana.id).update(language="en")
    async with http.get(f"{world_server.url}/export/leads.csv?view=all") as resp:
        header = next(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert header[:6] == ["ID", "Name", "Phones", "Emails", "Company", "Status"]
