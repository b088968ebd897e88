"""Finding clients and leads by any part of their name, company, email, or by their phone.

The searched text is the normalised key (`search_text.search_key`: lower-case, no accents),
stored as `name_key` and `company_key` of clients and of leads; emails are stored lower-case.
Both databases index those columns by trigrams (migrations 0005 for clients and emails, 0009
for leads):
- SQLite: FTS5 tables with the trigram tokenizer, `client_search` and `lead_search` over
  (name_key, company_key) and `email_search` over (address), kept by triggers; a quoted
  phrase there matches any substring of three characters or more;
- PostgreSQL: pg_trgm GIN indexes on the same columns, used by `LIKE '%part%'`.
Both mean "contains", so "ndez" finds "Fernández" and both databases find the same rows.
A phone is found by its E.164 form, else by its last digits (an indexed range).
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import connections
from tortoise.expressions import Q, RawSQL, Subquery

from models.contacts.phones import digits, tail_range, to_e164
from models.contacts.search_text import search_key
from models.core import filters
from models.schema.clients import Email, Phone

# A trigram index answers only parts of three characters or more.
MIN_PART = 3
# A short tail of digits ("45") matches many phones: at most this many owners are kept.
TAIL_MATCHES = 5000
_PHONE_CHARS = set("0123456789+-() ./")


@dataclass(frozen=True)
class SearchIndex:
    """Where the texts of one kind of contact are indexed."""

    fts: str  # SQLite's FTS5 table over the contact's (name_key, company_key)
    owner: str  # the column naming the contact on phone and email rows


CLIENTS = SearchIndex("client_search", "client_id")
LEADS = SearchIndex("lead_search", "lead_id")


def _sqlite() -> bool:
    dialect: str = connections.get("default").capabilities.dialect
    return dialect == "sqlite"


def _literal(text: str) -> str:
    """A SQL string literal (standard quoting, the same on SQLite and PostgreSQL).

    FTS5's MATCH argument goes inline because Tortoise's subquery terms carry no parameters.
    """
    return "'" + text.replace("\x00", "").replace("'", "''") + "'"


def _phrase(part: str) -> str:
    """An FTS5 string: the part as one phrase, which the trigram tokenizer matches anywhere."""
    return '"' + part.replace('"', '""') + '"'


def _fts_ids(table: str, parts: list[str]) -> RawSQL:
    query = " AND ".join(_phrase(p) for p in parts)
    return RawSQL(f"(SELECT rowid FROM {table} WHERE {table} MATCH {_literal(query)})")


def _name_or_company_contains(part: str) -> Q:
    # Tortoise's `contains` escapes % and _ and is a plain LIKE on the stored (lower-case) key.
    return Q(name_key__contains=part) | Q(company_key__contains=part)


def _name_starts_with(key: str) -> Q:
    """An indexed range on client.name_key (LIKE 'x%' uses no index on SQLite)."""
    return Q(name_key__gte=key, name_key__lt=key[:-1] + chr(ord(key[-1]) + 1))


def text_filter(text: str, index: SearchIndex = CLIENTS) -> Q:
    """Contacts whose name or company contains every word typed, or whose email contains
    the text when it is one word.

    Words shorter than MIN_PART cannot be looked up in a trigram index: they only narrow
    what the longer words found. A text made only of short words ("li", "a b") finds the
    names that start with it (an indexed range) and the clients with exactly that email.
    """
    key = search_key(text)
    parts = list(dict.fromkeys(key.split()))
    long_parts = [p for p in parts if len(p) >= MIN_PART]
    short_parts = [p for p in parts if len(p) < MIN_PART]
    if not long_parts:
        condition = _name_starts_with(key) if key else Q(id__in=[])
        return condition | email_filter(text, index)
    if _sqlite():
        condition = Q(id__in=_fts_ids(index.fts, long_parts))
    else:
        condition = Q()
        for part in long_parts:
            condition &= _name_or_company_contains(part)
    for part in short_parts:
        condition &= _name_or_company_contains(part)
    if len(parts) == 1:
        condition |= email_filter(text, index)
    return condition


def email_filter(text: str, index: SearchIndex = CLIENTS) -> Q:
    """Contacts with an email containing `text` (three characters or more; shorter: equal)."""
    address = text.strip().lower()
    if not address or not filters.fits(Email, "address", address):
        return Q(id__in=[])
    emails = Email.filter(**{f"{index.owner}__isnull": False})
    if len(address) < MIN_PART:
        emails = emails.filter(address=address)
    elif _sqlite():
        emails = emails.filter(id__in=_fts_ids("email_search", [address]))
    else:
        emails = emails.filter(address__contains=address)
    return Q(id__in=Subquery(emails.values(index.owner)))


def looks_like_phone(text: str) -> bool:
    """Digits with the signs numbers are written with: a search for a phone number."""
    return bool(digits(text)) and all(c in _PHONE_CHARS for c in text)


async def phone_filter(text: str, region: str, index: SearchIndex = CLIENTS) -> Q:
    """Contacts with this number (any format, read in `region`), else whose number ends with
    these digits (three or more)."""
    number_digits = digits(text)
    phones = Phone.filter(**{f"{index.owner}__isnull": False})
    e164 = to_e164(text, region) if len(number_digits) >= 6 else None
    if e164:
        ids = await phones.filter(e164=e164).values_list(index.owner, flat=True)
        if ids:
            return Q(id__in=ids)
    if len(number_digits) < 3 or not filters.fits(Phone, "digits_rev", number_digits):
        return Q(id__in=[])
    # Tail digits: an indexed range on the reversed digits, bounded so a short tail stays cheap.
    low, high = tail_range(number_digits)
    ids = await (
        phones.filter(digits_rev__gte=low, digits_rev__lt=high)
        .limit(TAIL_MATCHES)
        .values_list(index.owner, flat=True)
    )
    return Q(id__in=ids)
