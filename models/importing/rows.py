"""Checking one data row against the mapping: a clean record, or the reasons it is refused.

Pure (no database): the import runs it in a worker thread, chunk by chunk. The rules are
the ones of the client and lead forms: a name is required (the company stands in for it),
phones follow the forms' rule (models/contacts/phones.py `phone_text`) and are read in the
company's region with "+" numbers international and unreadable ones kept flagged, emails
lower-case and valid, custom values checked against their kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

from models.contacts.phones import NotAPhoneError, phone_text
from models.contacts.search_text import search_key
from models.core.labels import N_
from models.importing.cells import CellRejected, cell_text, phone_texts
from models.importing.mapping import CUSTOM_PREFIX
from models.importing.phonefast import fast_parse_phone
from models.importing.readers import Cell

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EMAIL_SPLIT = re.compile(r"[,;\s]+")
_TAG_SPLIT = re.compile(r"[,;]+")
_NO_DIGITS_PLACEHOLDER = re.compile(r"^[\s\-–—./_]*$")
_STATUS = {
    "active": "active",
    "activo": "active",
    "activa": "active",
    "potential": "potential",
    "potencial": "potential",
    "inactive": "inactive",
    "inactivo": "inactive",
    "inactiva": "inactive",
}
_TYPE = {
    "person": "person",
    "persona": "person",
    "particular": "person",
    "individual": "person",
    "company": "company",
    "empresa": "company",
    "business": "company",
}
_MAX_LEN = {
    "name": 200,
    "company_name": 200,
    "utm_source": 100,
    "utm_medium": 100,
    "utm_campaign": 100,
    "utm_term": 100,
    "utm_content": 100,
}


@dataclass(frozen=True)
class Rejection:
    """Why one row was not imported: `reason` in English, and the same as a gettext msgid
    (`message`) with its placeholders' values (`params`) for the reader's language."""

    row: int
    column: str
    reason: str
    values: tuple[str, ...] = ()
    message: str = ""
    params: tuple[tuple[str, str], ...] = ()


# A lead's campaign fields, in the order the writer inserts them.
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


Phone = tuple[str, str | None, str]  # typed, E.164 (None: not readable), reversed digits


class Record(NamedTuple):
    """A valid row: what it says about one client or lead (empty means "not given").

    Primitives only: records travel from the checking processes to the writing one, and a
    tuple of strings pickles several times faster than objects. What the writer needs is
    computed where the row is checked: the keys that find duplicates, the name's search
    key and the company's.
    """

    row: int
    name: str
    company_name: str
    phones: tuple[Phone, ...]
    emails: tuple[str, ...]
    tags: tuple[str, ...]
    status: str
    type: str
    responsible_id: int | None
    utm: dict[str, str]
    custom: dict[int, str]  # custom field id -> value
    name_from_company: bool
    name_key: str  # what name searches compare
    company_key: str  # what company searches compare
    keys: tuple[str, ...]  # what identifies the same person: "p" + E.164, "e" + email


@dataclass(slots=True)
class _Draft:
    """A row while its cells are read."""

    row: int
    name: str = ""
    company_name: str = ""
    phones: list[Phone] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    status: str = ""
    type: str = ""
    responsible_id: int | None = None
    utm: dict[str, str] = field(default_factory=dict)
    custom: dict[int, str] = field(default_factory=dict)
    name_from_company: bool = False

    def record(self) -> Record:
        name_key = search_key(self.name)[:200]
        company_key = search_key(self.company_name)[:200]
        phones, emails = self.phones, self.emails
        keys = tuple(["p" + p[1] for p in phones if p[1]] + ["e" + e for e in emails])
        return Record(
            self.row,
            self.name,
            self.company_name,
            tuple(phones),
            tuple(emails),
            tuple(self.tags),
            self.status,
            self.type,
            self.responsible_id,
            self.utm,
            self.custom,
            self.name_from_company,
            name_key,
            company_key,
            keys,
        )


def merged(target: Record, rec: Record) -> Record:
    """A later row of the same file about the same person adds to the first one."""
    draft = _Draft(
        target.row,
        target.name,
        target.company_name,
        list(target.phones),
        list(target.emails),
        list(target.tags),
        target.status,
        target.type,
        target.responsible_id,
        dict(target.utm),
        dict(target.custom),
        target.name_from_company,
    )
    if rec.name and not rec.name_from_company:
        draft.name, draft.name_from_company = rec.name, False
    draft.company_name = rec.company_name or draft.company_name
    known = {p[1] or p[0] for p in draft.phones}
    draft.phones.extend(p for p in rec.phones if (p[1] or p[0]) not in known)
    draft.emails.extend(a for a in rec.emails if a not in draft.emails)
    draft.tags.extend(t for t in rec.tags if t not in draft.tags)
    draft.status = rec.status or draft.status
    draft.type = rec.type or draft.type
    if rec.responsible_id is not None:
        draft.responsible_id = rec.responsible_id
    draft.utm.update(rec.utm)
    draft.custom.update(rec.custom)
    return draft.record()


@dataclass(frozen=True)
class CustomSpec:
    id: int
    kind: str
    choices: tuple[str, ...]


@lru_cache(maxsize=4096)
def _parse(text: str, region: str) -> Phone:
    # Real lists repeat numbers (switchboards, shared lines) near each other: a small cache of
    # recent texts parses them once without holding every number of a big file in memory.
    phone = fast_parse_phone(text, region)
    return (phone.typed, phone.e164, phone.digits_rev)


class RowChecker:
    """Checks rows of one file against one mapping."""

    def __init__(
        self,
        headers: list[str],
        columns: dict[int, str],
        *,
        region: str,
        custom: dict[str, CustomSpec],
        users: dict[str, int],
    ) -> None:
        self.headers = headers
        self.columns = sorted(columns.items())
        self.region = region
        self.custom = custom
        self.users = users  # username / full name (lower-case) -> user id

    def check(self, row: int, cells: list[Cell]) -> Record | Rejection:
        if len(cells) > len(self.headers) and any(cell_text(c) for c in cells[len(self.headers) :]):
            return self._reject(
                row,
                cells,
                "",
                CellRejected(
                    N_("%(values)s values but the header names %(columns)s columns"),
                    values=str(len(cells)),
                    columns=str(len(self.headers)),
                ),
            )
        record = _Draft(row)
        for index, target in self.columns:
            cell = cells[index] if index < len(cells) else None
            try:
                self._apply(record, target, cell)
            except CellRejected as err:
                return self._reject(row, cells, self.headers[index], err)
        if not record.name:
            record.name = record.company_name
            record.name_from_company = True
        if not record.name:
            return self._reject(
                row, cells, "", CellRejected(N_("no name (and no company to use as the name)"))
            )
        return record.record()

    def _reject(self, row: int, cells: list[Cell], column: str, why: CellRejected) -> Rejection:
        values = tuple(cell_text(c) for c in cells[: len(self.headers)])
        return Rejection(
            row, column, str(why), values, why.message, tuple(sorted(why.params.items()))
        )

    def _apply(self, record: _Draft, target: str, cell: Cell) -> None:
        if target == "phones":
            self._phones(record, cell)
            return
        text = cell_text(cell)
        if target.startswith(CUSTOM_PREFIX):
            spec = self.custom[target[len(CUSTOM_PREFIX) :]]
            if text or isinstance(cell, date):
                record.custom[spec.id] = _custom_value(spec, cell, text)
            return
        if not text:
            return
        if target == "emails":
            for part in _EMAIL_SPLIT.split(text):
                address = part.strip().lower()
                if not address:
                    continue
                if not _EMAIL.match(address) or len(address) > 255:
                    raise CellRejected(
                        N_("not a valid email address: %(value)s"), value=repr(part.strip())
                    )
                if address not in record.emails:
                    record.emails.append(address)
        elif target == "tags":
            for part in _TAG_SPLIT.split(text):
                name = part.strip()
                if len(name) > 60:
                    raise CellRejected(
                        N_("tag longer than 60 characters: %(value)s..."), value=repr(name[:20])
                    )
                if name and name not in record.tags:
                    record.tags.append(name)
        elif target == "status":
            if text.lower() not in _STATUS:
                raise CellRejected(
                    N_("unknown status %(value)s (active, potential or inactive)"),
                    value=repr(text),
                )
            record.status = _STATUS[text.lower()]
        elif target == "type":
            if text.lower() not in _TYPE:
                raise CellRejected(
                    N_("unknown type %(value)s (person or company)"), value=repr(text)
                )
            record.type = _TYPE[text.lower()]
        elif target == "responsible":
            user_id = self.users.get(text.lower())
            if user_id is None:
                raise CellRejected(N_("no active user named %(value)s"), value=repr(text))
            record.responsible_id = user_id
        else:
            if len(text) > _MAX_LEN[target]:
                raise CellRejected(N_("longer than %(max)s characters"), max=str(_MAX_LEN[target]))
            if target.startswith("utm_"):
                record.utm[target] = text
            else:
                setattr(record, target, text)

    def _phones(self, record: _Draft, cell: Cell) -> None:
        phones = record.phones
        for text in phone_texts(cell):
            if _NO_DIGITS_PLACEHOLDER.match(text):
                continue  # "-" or "—" in an empty phone cell
            try:
                phone_text(text)  # the rule of the client and lead forms
            except NotAPhoneError:
                raise CellRejected(
                    N_("Phone: “%(value)s” is not a phone number"), value=text.strip()
                ) from None
            phone = _parse(text, self.region)
            key = phone[1] or phone[0]
            if not any((p[1] or p[0]) == key for p in phones):
                phones.append(phone)


def _custom_value(spec: CustomSpec, cell: Cell, text: str) -> str:
    if spec.kind == "number":
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise CellRejected(N_("%(value)s is not a number"), value=repr(text)) from None
        if not number.is_finite():
            raise CellRejected(N_("%(value)s is not a number"), value=repr(text))
        return str(number)
    if spec.kind == "date":
        if isinstance(cell, datetime):
            return cell.date().isoformat()
        if isinstance(cell, date):
            return cell.isoformat()
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise CellRejected(
                N_("%(value)s is not a date (YYYY-MM-DD)"), value=repr(text)
            ) from None
    if spec.kind == "choice" and text not in spec.choices:
        raise CellRejected(
            N_("%(value)s is not one of: %(choices)s"),
            value=repr(text),
            choices=", ".join(spec.choices),
        )
    return text
