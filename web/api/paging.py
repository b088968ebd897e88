"""Cursor pagination of the API's lists (keyset: no OFFSET over a million rows).

A list is read in one of a few orders, each over indexed columns ending with `id`; the cursor
is the last row's values of those columns, base64-encoded JSON, opaque to the caller. The
next page is the rows after it in that order, so rows added meanwhile never shift a page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from web.api.core import Refused
from web.api.problems import problem
from web.templating import gettext

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Order:
    """A sort of the list: `column` (then id) ascending or descending."""

    column: str  # "id" alone, or an indexed column (then id breaks ties)
    descending: bool


def order_of(sort: str, columns: dict[str, str]) -> Order:
    """`sort` as "name" or "-name" (a key of `columns`, which maps it to the database column)."""
    descending = sort.startswith("-")
    return Order(columns[sort.lstrip("-")], descending)


def _decode(request: web.Request, cursor: str, order: Order) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"=="))
    except (ValueError, binascii.Error, UnicodeError):
        values = None
    width = 1 if order.column == "id" else 2
    if (
        not isinstance(values, list)
        or len(values) != width
        or not isinstance(values[-1], int)
        or (width == 2 and not isinstance(values[0], str))
    ):
        raise Refused(
            problem(
                422,
                gettext(request, "Invalid input"),
                gettext(request, "This cursor is not one this list gave: start again without it."),
                "cursor",
            )
        )
    return values


def _encode(row: Model, order: Order) -> str:
    values = [row.pk] if order.column == "id" else [getattr(row, order.column), row.pk]
    raw = json.dumps(values, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


async def page(
    request: web.Request, qs: QuerySet[M], order: Order, *, limit: int, cursor: str | None
) -> tuple[list[M], str | None]:
    """One page of `qs` in `order` after `cursor`, and the cursor of the next (None: last)."""
    op = "lt" if order.descending else "gt"
    sign = "-" if order.descending else ""
    if cursor:
        values = _decode(request, cursor, order)
        if order.column == "id":
            qs = qs.filter(**{f"id__{op}": values[0]})
        else:
            # `column >= value` bounds the index range, so the database starts reading at the
            # cursor; the OR alone is only a filter, read from the list's start (1.2 s for a
            # name sort's cursor at a million clients, 0.3 ms with the bound).
            bound = "lte" if order.descending else "gte"
            after = Q(**{f"{order.column}__{bound}": values[0]}) & (
                Q(**{f"{order.column}__{op}": values[0]}) | Q(**{f"id__{op}": values[1]})
            )
            qs = qs.filter(after)
    columns = ["id"] if order.column == "id" else [order.column, "id"]
    rows = await qs.order_by(*(sign + c for c in columns)).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode(rows[-1], order) if more and rows else None)
