"""The page of an import a crash interrupted (issue 19, item 5): it says what happened and
offers "Reanudar" (carry on after the rows already written) and "Deshacer" (remove what it
created); over HTTP, as a browser posts its forms."""

from __future__ import annotations

import asyncio
import os
import re
import time

import pytest

from models.importing import create_import, run_import
from models.importing import engine as import_engine
from models.schema.clients import Client
from models.schema.imports import ImportBatch
from tests.models.import_helpers import MAX_BYTES, write_csv
from tests.web.conftest import csrf_from, http_login, start_server, web_settings

MAPPING = {"Nombre": "name", "Teléfono": "phones"}
ROWS = [["Nombre", "Teléfono"]] + [[f"Cliente {n:02d}", f"+34 600 000 {n:03d}"] for n in range(12)]


RESUME_FORM = 'class="inline resume-import"'
RESUME_BUTTON = re.compile(r'resume-import">\s*<input[^>]*>\s*<button[^>]*>Reanudar</button>')
UNDO_BUTTON = re.compile(r'cancel-import"[^>]*>\s*<input[^>]*>\s*<button[^>]*>Deshacer</button>')


class Killed(BaseException):
    """The server process ends here: nothing after this point runs."""


@pytest.fixture
async def crashed_import(world, tmp_path, monkeypatch):
    """An upload of the import page, its import killed after the first chunk of five rows."""
    monkeypatch.setattr(import_engine, "CHUNK_ROWS", 5)
    uploads = tmp_path / "imports"
    uploads.mkdir(mode=0o700)
    path = write_csv(uploads / ("a" * 32 + ".csv"), ROWS)
    # Uploaded two days ago (a long outage): older than what the server prunes at start.
    old = time.time() - 2 * 24 * 3600
    os.utime(path, (old, old))
    batch = await create_import(
        world.ana, path, kind="clients", mapping=MAPPING, max_bytes=MAX_BYTES
    )
    original = import_engine.ImportEngine._chunk

    async def chunk_then_die(self, checked, read):
        await original(self, checked, read)
        raise Killed

    monkeypatch.setattr(import_engine.ImportEngine, "_chunk", chunk_then_die)
    with pytest.raises(Killed):
        await run_import(batch.id, max_bytes=MAX_BYTES, workers=0)
    monkeypatch.setattr(import_engine.ImportEngine, "_chunk", original)
    stale = write_csv(uploads / ("b" * 32 + ".csv"), ROWS)  # previewed, never imported
    os.utime(stale, (old, old))
    return batch.id, path


@pytest.fixture
async def restarted(crashed_import, world, hub, clock, tmp_path):
    """The server started again over the same data directory."""
    runner, srv = await start_server(web_settings(tmp_path), hub, clock)
    yield srv
    await runner.cleanup()


async def page_of(http, url: str) -> str:
    async with http.get(url) as resp:
        assert resp.status == 200
        return await resp.text()


async def until_finished(http, url: str) -> dict:
    for _ in range(500):
        async with http.get(f"{url}/progress") as resp:
            progress = await resp.json()
        if progress["finished"]:
            return progress
        await asyncio.sleep(0.02)
    raise AssertionError("the import did not finish")


async def test_an_interrupted_import_is_resumed_from_its_page(
    crashed_import, restarted, world, http
):
    batch_id, path = crashed_import
    assert path.exists() and not (path.parent / ("b" * 32 + ".csv")).exists()  # kept, pruned
    url = f"{restarted.url}/imports/{batch_id}"
    await http_login(http, restarted.url, "ana", world.password)
    page = await page_of(http, url)
    assert "Un reinicio interrumpió esta importación tras 5 de 12 filas" in page
    assert RESUME_FORM in page and RESUME_BUTTON.search(page)
    assert UNDO_BUTTON.search(page)
    assert "interrumpida por un reinicio" in page  # the import's error line

    async with http.post(
        f"{url}/resume", data={"csrf_token": csrf_from(page)}, allow_redirects=False
    ) as resp:
        assert resp.status == 303
        assert resp.headers["Location"] == f"/imports/{batch_id}"
    progress = await until_finished(http, url)

    assert (progress["status"], progress["processed_rows"], progress["created"]) == ("done", 12, 12)
    names = await Client.all().values_list("name", flat=True)
    assert sorted(names) == [f"Cliente {n:02d}" for n in range(12)]  # each once
    page = await page_of(http, url)
    assert RESUME_FORM not in page and "Cancelar la importación" in page
    assert not path.exists()  # the upload goes once imported, as after an uninterrupted import
    # Resumed already: a second post (another tab) is refused, nothing is imported again.
    async with http.post(
        f"{url}/resume", data={"csrf_token": csrf_from(page)}, allow_redirects=False
    ) as resp:
        assert resp.status == 409
    assert await Client.all().count() == 12


async def test_an_interrupted_import_is_undone_from_its_page(
    crashed_import, restarted, world, http
):
    batch_id, path = crashed_import
    assert await Client.all().count() == 5
    url = f"{restarted.url}/imports/{batch_id}"
    await http_login(http, restarted.url, "ana", world.password)
    page = await page_of(http, url)

    async with http.post(
        f"{url}/cancel", data={"csrf_token": csrf_from(page)}, allow_redirects=False
    ) as resp:
        assert resp.status == 303
    assert await Client.all().count() == 0
    assert (await ImportBatch.get(id=batch_id)).status == "cancelled"
    assert not path.exists()  # kept for a resume until then: clients' data, not kept longer
    page = await page_of(http, url)
    assert RESUME_FORM not in page and not UNDO_BUTTON.search(page)


async def test_an_interrupted_import_whose_file_is_gone_can_only_be_undone(
    crashed_import, restarted, world, http
):
    batch_id, path = crashed_import
    path.unlink()
    url = f"{restarted.url}/imports/{batch_id}"
    await http_login(http, restarted.url, "ana", world.password)
    page = await page_of(http, url)
    assert "Su archivo ya no está o ha cambiado desde entonces" in page
    assert RESUME_FORM not in page and UNDO_BUTTON.search(page)
    async with http.post(
        f"{url}/resume", data={"csrf_token": csrf_from(page)}, allow_redirects=False
    ) as resp:
        assert resp.status == 409


async def test_an_agent_without_the_import_right_cannot_resume(
    crashed_import, restarted, world, http
):
    batch_id, _ = crashed_import
    await http_login(http, restarted.url, "luis", world.password)
    async with http.get(f"{restarted.url}/") as resp:
        token = csrf_from(await resp.text())
    async with http.post(
        f"{restarted.url}/imports/{batch_id}/resume",
        data={"csrf_token": token},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 403
    assert (await ImportBatch.get(id=batch_id)).status == "failed"
