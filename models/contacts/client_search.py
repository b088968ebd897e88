"""Finding clients by any part of their name, company or email: the database's trigram search.

The searched text is the normalised key (`search_text.search_key`: lower-case, no accents),
stored as `client.name_key` and `client.company_key`; emails are stored lower-case. Both
databases index those columns by trigrams (migration 0005):
- SQLite: FTS5 tables with the trigram tokenizer, `client_search` over (name_key, company_key)
  and `email_search` over (address), kept by triggers; a quoted phrase there matches any
  substring of three characters or more;
- PostgreSQL: pg_trgm GIN indexes on the same columns, used by `LIKE '%part%'`.
Both mean "contains", so "ndez" finds "Fernández" and both databases find the same clients.
"""

from __future__ import annotations

from tortoise import connections
from tortoise.expressions import Q, RawSQL, Subquery

from models.contacts.search_text import search_key
from models.schema.clients import Email

# A trigram index answers only parts of three characters or more.
MIN_PART = 3


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


def text_filter(text: str) -> Q:
    """Clients whose name or company contains every word typed, or whose email contains
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
        return condition | email_filter(text)
    if _sqlite():
        condition = Q(id__in=_fts_ids("client_search", long_parts))
    else:
        condition = Q()
        for part in long_parts:
            condition &= _name_or_company_contains(part)
    for part in short_parts:
        condition &= _name_or_company_contains(part)
    if len(parts) == 1:
        condition |= email_filter(text)
    return condition


def email_filter(text: str) -> Q:
    """Clients with an email containing `text` (three characters or more; shorter: equal)."""
    address = text.strip().lower()
    if not address:
        return Q(id__in=[])
    emails = Email.filter(client_id__isnull=False)
    if len(address) < MIN_PART:
        emails = emails.filter(address=address)
    elif _sqlite():
        emails = emails.filter(id__in=_fts_ids("email_search", [address]))
    else:
        emails = emails.filter(address__contains=address)
    return Q(id__in=Subquery(emails.values("client_id")))
