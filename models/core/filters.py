"""What a list's filters may hold: checked once, for the page, the export and the API alike.

Filter values come from a URL, so they are any text. Compared as they are with a column they
may not fit it: Tortoise refuses a 21-character value for a 20-character column with an error,
PostgreSQL refuses a NUL character, and both drivers refuse an integer larger than the id
column. Each list therefore reads its filters through these functions before it queries: a
value that can name no row matches no row, and a value that is not one of the choices is
refused with a message naming the parameter.
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.fields import CharField
from tortoise.models import Model

from models.core.errors import ValidationFailed, msg
from models.core.sql import is_id

# The longest search text: longer than any searchable column (names and companies hold 200
# characters) and than anything a person types into a search box.
MAX_SEARCH = 200


def search_text(query: str | None, *, field: str = "q") -> str | None:
    """The text to search for, or None when there is none; ValidationFailed on `field` when
    it is longer than MAX_SEARCH. NUL characters, which no stored text holds, are dropped."""
    text = (query or "").replace("\x00", "").strip()
    if not text:
        return None
    if len(text) > MAX_SEARCH:
        raise ValidationFailed({field: msg("at most %(max)s characters", max=MAX_SEARCH)})
    return text


def choice(field: str, value: str | None, choices: Sequence[str]) -> str | None:
    """`value` when it is one of `choices`, None when unset; ValidationFailed naming `field`
    otherwise."""
    if not value:
        return None
    if value not in choices:
        raise ValidationFailed(
            {field: msg("must be one of: %(choices)s", choices=", ".join(choices))}
        )
    return value


def fits(model: type[Model], field: str, value: str) -> bool:
    """Whether `value` could be stored in `model.field`: when it is longer than the column
    (or holds a NUL), no row holds it, starts with it or contains it, and it must not be
    sent to the database, which would refuse it with an error instead of finding nothing."""
    if "\x00" in value:
        return False
    column = model._meta.fields_map[field]
    limit = column.max_length if isinstance(column, CharField) else None
    return limit is None or len(value) <= limit


def known_id(value: int | None) -> bool:
    """Whether an id filter can name a row (unset filters are checked by the caller)."""
    return value is not None and is_id(value)
