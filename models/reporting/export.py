"""Export of clients, leads and deals to CSV and .xlsx (C10), with the list page's filters.

Rows are read a page at a time by id and written as they come (openpyxl in write-only mode
for .xlsx), so memory stays flat whatever the number of rows. CSV cells that a spreadsheet
would run as a formula (starting with = + - @) get a leading apostrophe; our importer strips
it again, so an export can be imported back unchanged. In .xlsx every text is stored as text,
never as a formula. Column headers are in the language of the person exporting (`lang`, by
default the reader being served; English from the CLI), with the words our importer recognises.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from tortoise.queryset import QuerySet

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet as Worksheet

from models.contacts import clients as client_ops
from models.core.errors import Message, ValidationFailed, msg
from models.core.filters import choice, search_text
from models.core.sql import is_id
from models.core.translation import reader_language
from models.importing.cells import escape_formula
from models.people.permissions import DEALS, require, visible
from models.reporting.periods import user_zone
from models.sales import leads as lead_ops
from models.sales.deals import STATUSES as DEAL_STATUSES
from models.schema.clients import Client, CustomField, CustomFieldValue, Email, Phone
from models.schema.deals import Deal
from models.schema.leads import Lead
from models.schema.users import User

KINDS = ("clients", "leads", "deals")
FORMATS = ("csv", "xlsx")
PAGE = 1000

# The column headers, by field; UTM fields keep their technical names (utm_source ...).
HEADERS: dict[str, Message] = {
    "id": msg("ID"),
    "title": msg("Title"),
    "client": msg("Client"),
    "status": msg("Status"),
    "amount": msg("Amount"),
    "currency": msg("Currency"),
    "responsible": msg("Responsible"),
    "created_at": msg("Created at"),
    "closed_at": msg("Closed at"),
    "name": msg("Name"),
    "phones": msg("Phones"),
    "emails": msg("Emails"),
    "company": msg("Company"),
    "type": msg("Type"),
    "tags": msg("Tags"),
    "source": msg("Source"),
}

SHEETS: dict[str, Message] = {
    "clients": msg("Clients"),
    "leads": msg("Leads"),
    "deals": msg("Deals"),
}


def _headers(keys: list[str], lang: str | None) -> list[str]:
    lang = lang or reader_language()
    return [HEADERS[key].in_language(lang) if key in HEADERS else key for key in keys]


@dataclass(frozen=True)
class ExportFilters:
    """The filters of the list page being exported (unset ones do not filter)."""

    query: str | None = None
    mine: bool = False  # clients: only mine; leads: the "mine" view
    lead_view: str | None = None  # leads: mine|unhandled|all
    status: str | None = None
    tag: str | None = None  # clients
    responsible_id: int | None = None
    client_id: int | None = None  # deals
    # Clients and leads created in [since, until), UTC: the list's dates as the user's days
    # (models/reporting/periods.py `day_filter`).
    created_since: datetime | None = None
    created_until: datetime | None = None


def _stamp(value: datetime | None, zone: ZoneInfo) -> str:
    """A time as the exporting user reads it on the page: on their clock (UTC for the system)."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


async def _clients_query(user: User | None, f: ExportFilters) -> QuerySet[Client]:
    # The list page's own filters and search, so the file holds what the page shows.
    return await client_ops.clients_matching(
        user,
        mine=f.mine,
        query=f.query,
        tag=f.tag,
        status=f.status,
        responsible_id=f.responsible_id,
        created_since=f.created_since,
        created_until=f.created_until,
    )


async def _leads_query(user: User | None, f: ExportFilters) -> QuerySet[Lead]:
    # The rows the leads page lists with the same filters (one definition for both).
    return await lead_ops.leads_matching(
        user,
        view=f.lead_view or ("mine" if f.mine else "all"),
        status=f.status,
        query=f.query,
        responsible_id=f.responsible_id,
        created_since=f.created_since,
        created_until=f.created_until,
    )


def _deals_query(user: User | None, f: ExportFilters) -> QuerySet[Deal]:
    status = choice("status", f.status, DEAL_STATUSES)
    text = search_text(f.query)
    qs = visible(user, DEALS, Deal.all())
    if user is not None and f.mine:
        qs = qs.filter(responsible_id=user.id)
    if status:
        qs = qs.filter(status=status)
    for column, value in (("client_id", f.client_id), ("responsible_id", f.responsible_id)):
        if value is not None:
            qs = qs.filter(**{column: value}) if is_id(value) else qs.filter(id__in=[])
    if text:
        qs = qs.filter(title__icontains=text)
    return qs


async def _query(user: User | None, kind: str, f: ExportFilters) -> QuerySet[Any]:
    """The rows of the export, its kind, the right and the filters checked."""
    if kind not in KINDS:
        raise ValidationFailed(
            {"kind": msg("must be one of: %(choices)s", choices=", ".join(KINDS))}
        )
    if user is not None:
        require(user, "import_export")
    if kind == "deals":
        return _deals_query(user, f)
    if kind == "clients":
        return await _clients_query(user, f)
    return await _leads_query(user, f)


async def check_export(
    user: User | None, kind: str, filters: ExportFilters | None = None
) -> None:
    """Whatever would refuse this export (kind, right, the list's filters), raised before a
    byte of it is sent: once a streamed download has started it cannot become an error."""
    await _query(user, kind, filters or ExportFilters())


async def _pages(qs: QuerySet[Any], fields: list[str]) -> AsyncIterator[list[dict[str, Any]]]:
    last = 0
    while True:
        page = await qs.filter(id__gt=last).order_by("id").limit(PAGE).values(*fields)
        if not page:
            return
        yield page
        last = page[-1]["id"]


async def _details(kind: str, ids: list[int]) -> dict[str, dict[int, list[Any]]]:
    owner = "client_id" if kind == "clients" else "lead_id"
    found: dict[str, dict[int, list[Any]]] = {
        k: defaultdict(list) for k in ("phones", "emails", "tags", "custom")
    }
    phones = Phone.filter(**{f"{owner}__in": ids}).order_by("position", "id")
    for owner_id, e164, typed in await phones.values_list(owner, "e164", "typed"):
        found["phones"][owner_id].append(e164 or typed)
    emails = Email.filter(**{f"{owner}__in": ids}).order_by("position", "id")
    for owner_id, address in await emails.values_list(owner, "address"):
        found["emails"][owner_id].append(address)
    values = CustomFieldValue.filter(**{f"{owner}__in": ids})
    for owner_id, field_id, value in await values.values_list(owner, "field_id", "value"):
        found["custom"][owner_id].append((field_id, value))
    if kind == "clients":
        for client_id, tag in await Client.filter(id__in=ids).values_list("id", "tags__name"):
            if tag:
                found["tags"][client_id].append(tag)
    return found


async def export_rows(
    user: User | None, kind: str, filters: ExportFilters | None = None, *, lang: str | None = None
) -> AsyncIterator[list[str]]:
    """The header (in `lang`), then one list of texts per visible row. `user` None: everything
    (the CLI)."""
    f = filters or ExportFilters()
    qs: QuerySet[Any] = await _query(user, kind, f)  # refused before the header is written
    zone = user_zone(user)
    if kind == "deals":
        yield _headers(
            [
                "id",
                "title",
                "client",
                "status",
                "amount",
                "currency",
                "responsible",
                "created_at",
                "closed_at",
            ],
            lang,
        )
        fields = [
            "id",
            "title",
            "client__name",
            "status",
            "amount",
            "currency",
            "responsible__username",
            "created_at",
            "closed_at",
        ]
        async for page in _pages(qs, fields):
            for r in page:
                yield [
                    str(r["id"]),
                    r["title"],
                    r["client__name"] or "",
                    r["status"],
                    str(r["amount"]),
                    r["currency"],
                    r["responsible__username"] or "",
                    _stamp(r["created_at"], zone),
                    _stamp(r["closed_at"], zone),
                ]
        return
    custom = list(await CustomField.filter(applies_to=kind[:-1]).order_by("position", "id"))
    common = ["id", "name", "phones", "emails", "company"]
    if kind == "clients":
        yield [
            *_headers([*common, "status", "type", "tags", "responsible", "created_at"], lang),
            *[c.label for c in custom],
        ]
        extra = ["status", "type"]
    else:
        utm = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]
        yield [
            *_headers([*common, "status", "source", *utm, "responsible", "created_at"], lang),
            *[c.label for c in custom],
        ]
        extra = ["status", "source", *utm]
    fields = ["id", "name", "company_name", *extra, "responsible__username", "created_at"]
    async for page in _pages(qs, fields):
        found = await _details(kind, [r["id"] for r in page])
        for r in page:
            values = dict(found["custom"].get(r["id"], []))
            row = [
                str(r["id"]),
                r["name"],
                ", ".join(found["phones"].get(r["id"], [])),
                ", ".join(found["emails"].get(r["id"], [])),
                r["company_name"],
                *[r[name] for name in extra],
            ]
            if kind == "clients":
                row.append(", ".join(found["tags"].get(r["id"], [])))
            row += [r["responsible__username"] or "", _stamp(r["created_at"], zone)]
            row += [values.get(c.id, "") for c in custom]
            yield row


async def export_csv_chunks(
    user: User | None, kind: str, filters: ExportFilters | None = None, *, lang: str | None = None
) -> AsyncIterator[bytes]:
    """The CSV file in pieces (UTF-8 with BOM, so Excel reads accents), for a streamed answer."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield codecs.BOM_UTF8
    count = 0
    async for row in export_rows(user, kind, filters, lang=lang):
        writer.writerow([escape_formula(cell) for cell in row])
        count += 1
        if count % PAGE == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_row(sheet: Worksheet, row: list[str]) -> list[Any]:
    cells: list[Any] = []
    for value in row:
        if value.startswith("="):
            # openpyxl would store it as a formula: force a text cell.
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells


async def export_to_path(
    user: User | None,
    kind: str,
    fmt: str,
    path: Path,
    filters: ExportFilters | None = None,
    *,
    lang: str | None = None,
) -> int:
    """Write the export to `path`; returns the number of data rows."""
    if fmt not in FORMATS:
        raise ValidationFailed(
            {"format": msg("must be one of: %(choices)s", choices=", ".join(FORMATS))}
        )
    count = -1
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            async for row in export_rows(user, kind, filters, lang=lang):
                writer.writerow([escape_formula(cell) for cell in row])
                count += 1
        return count
    workbook = Workbook(write_only=True)
    title = SHEETS[kind].in_language(lang or reader_language()) if kind in SHEETS else kind
    sheet = workbook.create_sheet(title)
    page: list[list[str]] = []
    async for row in export_rows(user, kind, filters, lang=lang):
        page.append(row)
        count += 1
        if len(page) >= PAGE:
            await asyncio.to_thread(_append_rows, sheet, page)
            page = []
    await asyncio.to_thread(_append_rows, sheet, page)
    await asyncio.to_thread(workbook.save, path)
    return count


def _append_rows(sheet: Worksheet, rows: list[list[str]]) -> None:
    for row in rows:
        sheet.append(_xlsx_row(sheet, row))
