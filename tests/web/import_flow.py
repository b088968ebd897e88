"""An import started over HTTP as a user starts it on the import pages: upload the file, map
its two columns (name, phone), start. For tests and benches that drive a running server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp

from tests.web.conftest import csrf_from


async def start_import_over_http(session: aiohttp.ClientSession, url: str, source: Path) -> int:
    """`session` logged in; the new import's id (duplicates: create)."""
    async with session.get(f"{url}/imports/new") as resp:
        token = csrf_from(await resp.text())
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("kind", "clients")
    form.add_field("file", await asyncio.to_thread(source.read_bytes), filename=source.name)
    async with session.post(f"{url}/imports/upload", data=form) as resp:
        page = await resp.text()
        assert resp.status == 200, f"upload refused ({resp.status}): {page[:500]}"
    upload_id = re.search(r'name="upload_id" value="([^"]+)"', page)
    assert upload_id is not None, page[:500]
    values = {
        "csrf_token": csrf_from(page),
        "kind": "clients",
        "upload_id": upload_id.group(1),
        "file_name": source.name,
        "map_0": "name",
        "map_1": "phones",
        "duplicates": "create",
    }
    async with session.post(f"{url}/imports/start", data=values, allow_redirects=False) as resp:
        where = resp.headers.get("Location", "")
        assert resp.status == 303 and re.fullmatch(r"/imports/\d+", where), await resp.text()
    return int(where.rsplit("/", 1)[1])
