"""Checking one data row against the mapping: a clean record, or the reasons it is refused.

Pure (no database): the import runs it in a worker thread, chunk by chunk. The rules are
the ones of the client and lead forms: a name is required (the company stands in for it),
phones are read in the company's region with "+" numbers international and unreadable ones
kept flagged, emails lower-case and valid, custom values checked against their kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from models.contact_details import search_key, words_of
from models.importing.cells import CellRejected, cell_text, phone_texts
from models.importing.mapping import CUSTOM_PREFIX
from models.importing.phonefast import fast_parse_phone
from models.importing.readers import Cell
from models.phones import ParsedPhone

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EMAIL_SPLIT = re.compile(r"[,;\s]+")
_TAG_SPLIT = re.compile(r"[,;]+")
_HAS_DIGIT = re.compile(r"\d")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
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
    """Why one row was not imported."""

    row: int
    column: str
    reason: str
    values: tuple[str, ...] = ()


@dataclass
class Record:
    """A valid row: what it says about one client or lead (empty means "not given")."""

    row: int
    name: str = ""
    company_name: str = ""
    phones: list[ParsedPhone] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    status: str = ""
    type: str = ""
    responsible_id: int | None = None
    utm: dict[str, str] = field(default_factory=dict)
    custom: dict[int, str] = field(default_factory=dict)  # custom field id -> value
    name_from_company: bool = False
    name_key: str = ""  # what name searches compare, computed with the rest of the row
    words: list[str] = field(default_factory=list)  # search words of name and company

    def keys(self) -> list[str]:
        """What identifies the same person: E.164 numbers and email addresses."""
        return [f"p{p.e164}" for p in self.phones if p.e164] + [f"e{e}" for e in self.emails]

    def __reduce__(self) -> tuple:
        # Records travel back from the worker processes: as plain tuples they pickle
        # several times faster than as dataclass instances.
        phones = [(p.typed, p.e164, p.digits_rev) for p in self.phones]
        return (
            _rebuild_record,
            (
                self.row,
                self.name,
                self.company_name,
                phones,
                self.emails,
                self.tags,
                self.status,
                self.type,
                self.responsible_id,
                self.utm,
                self.custom,
                self.name_from_company,
                self.name_key,
                self.words,
            ),
        )


def _rebuild_record(
    row,
    name,
    company,
    phones,
    emails,
    tags,
    status,
    type_,
    responsible,
    utm,
    custom,
    from_company,
    name_key,
    words,
) -> Record:
    return Record(
        row,
        name,
        company,
        [ParsedPhone(*p) for p in phones],
        emails,
        tags,
        status,
        type_,
        responsible,
        utm,
        custom,
        from_company,
        name_key,
        words,
    )


@dataclass(frozen=True)
class CustomSpec:
    id: int
    kind: str
    choices: tuple[str, ...]


@lru_cache(maxsize=65536)
def _parse(text: str, region: str) -> ParsedPhone:
    # Real lists repeat numbers (switchboards, shared lines): parse each text once.
    return fast_parse_phone(text, region)


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
                f"{len(cells)} values but the header names {len(self.headers)} columns",
            )
        record = Record(row=row)
        for index, target in self.columns:
            cell = cells[index] if index < len(cells) else None
            try:
                self._apply(record, target, cell)
            except CellRejected as err:
                return self._reject(row, cells, self.headers[index], str(err))
        if not record.name:
            record.name = record.company_name
            record.name_from_company = True
        if not record.name:
            return self._reject(row, cells, "", "no name (and no company to use as the name)")
        record.name_key = _name_key(record.name)
        record.words = search_words(record.name, record.company_name)
        return record

    def _reject(self, row: int, cells: list[Cell], column: str, reason: str) -> Rejection:
        values = tuple(cell_text(c) for c in cells[: len(self.headers)])
        return Rejection(row, column, reason, values)

    def _apply(self, record: Record, target: str, cell: Cell) -> None:
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
                    raise CellRejected(f"not a valid email address: {part.strip()!r}")
                if address not in record.emails:
                    record.emails.append(address)
        elif target == "tags":
            for part in _TAG_SPLIT.split(text):
                name = part.strip()
                if len(name) > 60:
                    raise CellRejected(f"tag longer than 60 characters: {name[:20]!r}...")
                if name and name not in record.tags:
                    record.tags.append(name)
        elif target == "status":
            if text.lower() not in _STATUS:
                raise CellRejected(f"unknown status {text!r} (active, potential or inactive)")
            record.status = _STATUS[text.lower()]
        elif target == "type":
            if text.lower() not in _TYPE:
                raise CellRejected(f"unknown type {text!r} (person or company)")
            record.type = _TYPE[text.lower()]
        elif target == "responsible":
            user_id = self.users.get(text.lower())
            if user_id is None:
                raise CellRejected(f"no active user named {text!r}")
            record.responsible_id = user_id
        else:
            if len(text) > _MAX_LEN[target]:
                raise CellRejected(f"longer than {_MAX_LEN[target]} characters")
            if target.startswith("utm_"):
                record.utm[target] = text
            else:
                setattr(record, target, text)

    def _phones(self, record: Record, cell: Cell) -> None:
        phones = record.phones
        for text in phone_texts(cell):
            if not _HAS_DIGIT.search(text):
                if _NO_DIGITS_PLACEHOLDER.match(text):
                    continue  # "-" or "—" in an empty phone cell
                raise CellRejected(f"not a phone number: {text!r}")
            if len(text) > 64:
                raise CellRejected("a phone longer than 64 characters")
            phone = _parse(text, self.region)
            key = phone.e164 or phone.typed
            if not any((p.e164 or p.typed) == key for p in phones):
                phones.append(phone)


def _name_key(name: str) -> str:
    """`contact_details.search_key`, skipping its Unicode decomposition for ASCII names
    (where it changes nothing)."""
    if name.isascii():
        return _SPACES.sub(" ", name).strip().lower()[:200]
    return search_key(name)[:200]


def search_words(name: str, company: str) -> list[str]:
    """`contact_details.words_of`, skipping the Unicode decomposition for ASCII text."""
    if name.isascii() and company.isascii():
        found: dict[str, None] = {}
        for word in _WORD.findall(name.lower()):
            found[word[:60]] = None
        for word in _WORD.findall(company.lower()):
            found[word[:60]] = None
        return list(found)
    return words_of(name, company)


def _custom_value(spec: CustomSpec, cell: Cell, text: str) -> str:
    if spec.kind == "number":
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise CellRejected(f"{text!r} is not a number") from None
        if not number.is_finite():
            raise CellRejected(f"{text!r} is not a number")
        return str(number)
    if spec.kind == "date":
        if isinstance(cell, datetime):
            return cell.date().isoformat()
        if isinstance(cell, date):
            return cell.isoformat()
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise CellRejected(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if spec.kind == "choice" and text not in spec.choices:
        raise CellRejected(f"{text!r} is not one of: {', '.join(spec.choices)}")
    return text
