"""A list page's order and page, read from its URL, and the page of rows they select.

`sort`, `dir`, `page` and `per_page` come from the query string, so they are any text: an
unknown column gives the list's default order, anything else that is not a number or a choice
gives its default, and a page past the end shows the last one. Sort keys are looked up in the
domain's whitelist (models/core/ordering.py `SortKeys`), never passed on as text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiohttp import web
from yarl import URL

from models.core.ordering import Sort, SortKeys
from web.views.common import int_param

T = TypeVar("T")

PER_PAGE_CHOICES = (25, 50, 100)
DEFAULT_PER_PAGE = 50
# No list holds this many pages (at 100 rows a page, a hundred million rows): a larger page
# number is treated as this one, then shown as the last page.
MAX_PAGE = 1_000_000
LISTING_PARAMS = ("sort", "dir", "page", "per_page")


@dataclass(frozen=True)
class Listing:
    """The order and page a list was asked for, and links to other orders and pages."""

    url: URL
    sort: Sort
    default: Sort
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def link(self, **changes: str | int | None) -> str:
        """This page's URL with some parameters changed (None removes one), filters kept."""
        gone = [key for key, value in changes.items() if value is None]
        kept = {key: value for key, value in changes.items() if value is not None}
        return str(self.url.without_query_params(*gone).update_query(kept))

    def sort_link(self, key: str) -> str:
        """The column header's link: the other direction of the current order, or a new
        column's own first direction, from the first page."""
        if key == self.sort.key:
            direction = "asc" if self.sort.descending else "desc"
        else:
            direction = "desc" if key == self.default.key and self.default.descending else "asc"
        return self.link(sort=key, dir=direction, page=None)

    def kept(self) -> list[tuple[str, str]]:
        """The order and page size as hidden fields, for a filter form to keep them."""
        return [(k, v) for k, v in self.url.query.items() if k in ("sort", "dir", "per_page")]


def read_listing(request: web.Request, keys: SortKeys, *, default: Sort | None = None) -> Listing:
    """The listing the request's query asks for, each bad value replaced by its default."""
    query = request.query
    default = keys.resolve(default)
    key = query.get("sort", "")
    if key in keys.keys:
        direction = query.get("dir", "")
        if direction in ("asc", "desc"):
            descending = direction == "desc"
        else:
            descending = default.descending if key == default.key else False
        sort = Sort(key, descending)
    else:
        sort = default
    page = int_param(query.get("page"), default=1) or 1
    per_page = int_param(query.get("per_page"), default=DEFAULT_PER_PAGE)
    return Listing(
        url=request.rel_url,
        sort=sort,
        default=default,
        page=min(max(1, page), MAX_PAGE),
        per_page=per_page if per_page in PER_PAGE_CHOICES else DEFAULT_PER_PAGE,
    )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; `pages` is None when the total is only known to exceed a cap."""

    rows: list[T]
    total: int
    number: int
    per_page: int
    pages: int | None

    @property
    def has_next(self) -> bool:
        if self.pages is None:
            return len(self.rows) == self.per_page
        return self.number < self.pages

    @property
    def shown(self) -> bool:
        """Whether the pager is worth showing (more rows than the smallest page holds)."""
        return self.number > 1 or self.total > PER_PAGE_CHOICES[0]


async def fetch_page(
    listing: Listing,
    fetch: Callable[..., Awaitable[tuple[list[T], int]]],
    *,
    cap: int | None = None,
) -> Page[T]:
    """The rows `fetch(offset=..., limit=...)` gives for the listing's page (a domain list
    with its filters bound); a page past the end gives the last page instead. With `cap`, a
    total above it means "more than cap" (the last page is then unknown)."""
    rows, total = await fetch(offset=listing.offset, limit=listing.per_page)
    exact = cap is None or total <= cap
    pages = max(1, -(-total // listing.per_page)) if exact else None
    number = listing.page
    if not rows and pages is not None and number > pages:
        number = pages
        rows, total = await fetch(offset=(number - 1) * listing.per_page, limit=listing.per_page)
    return Page(rows=rows, total=total, number=number, per_page=listing.per_page, pages=pages)
