"""Files for the import tests, written the way other programs write them."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl

from models.importing import create_import, run_import
from models.schema.clients import Client

MAX_BYTES = 5 * 1024 * 1024


def write_csv(
    path: Path, rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


async def import_file(
    path: Path, mapping: dict[str, str], *, user=None, kind="clients", duplicates="skip"
):
    batch = await create_import(
        user, path, kind=kind, mapping=mapping, duplicates=duplicates, max_bytes=MAX_BYTES
    )
    return await run_import(batch.id, max_bytes=MAX_BYTES)


async def client_named(name: str) -> Client:
    client = await Client.get(name=name)
    await client.fetch_related("phones", "emails", "tags")
    return client


def e164s(client: Client) -> list[str | None]:
    return [p.e164 for p in sorted(client.phones, key=lambda p: p.position)]
