"""A listing sorted by the column its reader chose, only along orders the database indexes.

Each listing names its sort keys in a `SortKeys` (a whitelist: a key read from a URL is looked
up there and never reaches the database as text). A key is either an ordering of indexed
columns, ending with the id so that pages never overlap, or a column holding a user id
(responsible, agent): those rows go by the user's name, one index range per user, because
ordering a million rows by a joined name would sort them all for every page.

A page near the end of a long listing is read backwards from the end (the reversed order and
a small offset), so the "last page" link costs what the first one does.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.schema.users import User

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Sort:
    """A listing's order: one of its sort keys, ascending or descending."""

    key: str
    descending: bool = False


@dataclass(frozen=True)
class SortKeys:
    """The orders a listing offers.

    `orders` maps a key to indexed columns, ascending ("name": ("name_key", "id")); `by_user`
    maps a key to the column holding a user id, whose rows go by the user's name, each user's
    rows in `within` order; `default` is the order when none (or an unknown one) is asked.
    """

    orders: Mapping[str, tuple[str, ...]]
    default: Sort
    by_user: Mapping[str, str] = field(default_factory=dict)
    within: tuple[str, ...] = ("-id",)

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.orders, *self.by_user)

    def resolve(self, sort: Sort | None) -> Sort:
        """`sort` when it names one of the keys, the default otherwise."""
        return sort if sort is not None and sort.key in self.keys else self.default


def flipped(order: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f[1:] if f.startswith("-") else f"-{f}" for f in order)


def _sort_key(user: User) -> tuple[str, int]:
    text = unicodedata.normalize("NFKD", str(user))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold(), user.id


async def users_by_name() -> list[int | None]:
    """Every user id (active or not) in name order, then None for rows without a user."""
    users = await User.all().only("id", "full_name", "username")
    ordered: list[int | None] = [u.id for u in sorted(users, key=_sort_key)]
    return [*ordered, None]


async def sorted_page(
    qs: QuerySet[M],
    keys: SortKeys,
    sort: Sort | None,
    *,
    offset: int,
    limit: int,
    total: int | None = None,
) -> list[M]:
    """One page of `qs` in `sort` order (the default when `sort` is none of `keys`).

    With the exact `total`, a page past the middle is read from the end in the reversed order.
    """
    sort = keys.resolve(sort)
    offset, limit = max(0, offset), max(1, limit)
    backwards = total is not None and offset + limit / 2 > total / 2
    if backwards:
        assert total is not None
        count = min(limit, total - offset)
        if count <= 0:
            return []
        offset, limit = max(0, total - offset - count), count
    if sort.key in keys.by_user:
        groups = await users_by_name()
        within = keys.within
        if sort.descending != backwards:
            groups.reverse()
        if backwards:
            within = flipped(within)
        rows = await _grouped(qs, keys.by_user[sort.key], groups, within, offset, limit)
    else:
        order = keys.orders[sort.key]
        if sort.descending != backwards:
            order = flipped(order)
        rows = list(await qs.order_by(*order).offset(offset).limit(limit))
    return rows[::-1] if backwards else rows


async def _grouped(
    qs: QuerySet[M],
    column: str,
    groups: list[int | None],
    within: tuple[str, ...],
    offset: int,
    limit: int,
) -> list[M]:
    """The rows of each user in turn (an index range each); groups before the page are
    counted, not read."""
    rows: list[M] = []
    for user_id in groups:
        part = (
            qs.filter(**{column: user_id})
            if user_id is not None
            else qs.filter(**{f"{column}__isnull": True})
        )
        if offset:
            size = await part.count()
            if size <= offset:
                offset -= size
                continue
        rows.extend(await part.order_by(*within).offset(offset).limit(limit - len(rows)))
        offset = 0
        if len(rows) >= limit:
            break
    return rows


async def sorted_ids(qs: QuerySet[Any], keys: SortKeys, sort: Sort | None, cap: int) -> list[int]:
    """At most `cap` ids of `qs` in `sort` order (a search's capped result, paged in memory)."""
    sort = keys.resolve(sort)
    if sort.key in keys.by_user:
        column = keys.by_user[sort.key]
        pairs = await qs.order_by(*keys.within).limit(cap).values_list("id", column)
        rank = {user_id: n for n, user_id in enumerate(await users_by_name())}
        last = len(rank)
        # Stable, also reversed: each user's rows keep their `within` order.
        pairs = sorted(pairs, key=lambda p: rank.get(p[1], last), reverse=sort.descending)
        return [int(p[0]) for p in pairs]
    order = keys.orders[sort.key]
    order = flipped(order) if sort.descending else order
    ids = await qs.order_by(*order).limit(cap).values_list("id", flat=True)
    return [int(cast(int, i)) for i in ids]
