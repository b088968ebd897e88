"""The import pages under abuse: a user without the right stops nothing, and a workbook that
unpacks to gigabytes is refused with a clear reason while the panel keeps answering."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import aiohttp
import pytest

from models import importing
from models.schema.clients import Client
from tests.web.conftest import csrf_from, http_login, start_server, web_settings
from tests.xlsx_bombs import workbook
from web.views.imports import IMPORT_RUNNER


@pytest.fixture
async def panel(world, hub, clock, tmp_path):
    """The panel with a 2 MB upload limit: its workbook reader may take 512 + 64 MB."""
    runner, srv = await start_server(web_settings(tmp_path, max_upload_mb=2), hub, clock)
    yield srv
    await runner.cleanup()


async def _token(http, url: str) -> str:
    async with http.get(f"{url}/imports/new") as resp:
        return csrf_from(await resp.text())


def _peak_rss_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) restarts from now


def _memory_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(field)


async def test_an_agent_without_the_import_right_stops_no_running_import(
    panel, world, tmp_path, http
):
    path = tmp_path / "clientes.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Nombre", "Teléfono"])
        writer.writerows([f"Cliente {n}", f"+34 600 {n:06d}"] for n in range(12_000))
    batch = await importing.create_import(
        world.ana,
        path,
        kind="clients",
        mapping={"Nombre": "name", "Teléfono": "phones"},
        max_bytes=2 << 20,
    )
    runner = panel.app[IMPORT_RUNNER]
    task = runner.start(batch.id)
    assert runner.is_running(batch.id)

    await http_login(http, panel.url, "luis", world.password)  # an agent: no import right
    async with http.get(f"{panel.url}/clients") as resp:
        token = csrf_from(await resp.text())
    async with http.post(
        f"{panel.url}/imports/{batch.id}/cancel", data={"csrf_token": token}
    ) as resp:
        assert resp.status == 403
    # Whether the import is still running now depends on the machine's speed; what the refused
    # cancel must not have done shows at the end: the import finished whole, nothing undone.
    async with http.post(
        f"{panel.url}/imports/start",
        data={"csrf_token": token, "upload_id": "0" * 32 + ".csv", "kind": "clients"},
    ) as resp:
        assert resp.status == 403  # the right first, then the upload (none here: not a 404)

    done = await task
    assert (done.status, done.created_count) == ("done", 12_000)
    assert await Client.all().count() == 12_000


async def _upload(http, url: str, token: str, path: Path) -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("kind", "clients")
    form.add_field("file", await asyncio.to_thread(path.read_bytes), filename=path.name)
    async with http.post(f"{url}/imports/upload", data=form) as resp:
        return resp.status, await resp.text()


async def _upload_while_polling_health(http, url: str, token: str, path: Path):
    """Upload the file; meanwhile ask /healthz again and again. (upload's answer, the
    statuses of the health checks answered before the upload's answer came)."""
    upload = asyncio.ensure_future(_upload(http, url, token, path))
    answered: list[int] = []
    async with aiohttp.ClientSession() as other:  # another visitor's connection
        while not upload.done():
            async with other.get(f"{url}/healthz") as resp:
                status = resp.status
            if not upload.done():
                answered.append(status)
    return await upload, answered


@pytest.mark.parametrize(
    ("bomb", "reason"),
    [
        # One cell of 100 million characters in a 0.1 MB file (the issue's: 818 MB in 0.8 MB).
        ({"huge_string": 100_000_000}, "la celda B2 del archivo tiene más de 10000 caracteres"),
        # 100,000 rows showing a 9,000-character text: 0.7 MB unpacking to 900 MB of cells.
        (
            {"rows": 100_000, "shared_chars": 9_000},
            "la hoja es demasiado grande una vez descomprimida",
        ),
    ],
    ids=["one-huge-cell", "amplified"],
)
async def test_a_decompression_bomb_is_refused_clearly_and_the_panel_keeps_answering(
    panel, world, tmp_path, http, bomb, reason
):
    path = workbook(tmp_path / "clientes.xlsx", **bomb)
    assert path.stat().st_size < 2 << 20  # under the upload limit
    await http_login(http, panel.url, "ana", world.password)  # Spanish
    token = await _token(http, panel.url)
    _peak_rss_reset()
    before = _memory_mb("VmRSS")
    (status, page), health = await _upload_while_polling_health(http, panel.url, token, path)
    grown = _memory_mb("VmHWM") - before
    assert status == 422
    assert f'<p class="field-error" role="alert">{reason}</p>' in page
    assert grown < 48, f"the panel's process grew by {grown:.0f} MB"
    assert set(health) <= {200}
    if "rows" in bomb:  # read by calamine in the child process: the panel answered meanwhile
        assert health
    assert not list((tmp_path / "imports").iterdir())  # the refused upload is not kept
