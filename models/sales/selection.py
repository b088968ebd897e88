"""What a list page's bulk action acts on (C8, Q1): the rows ticked, or every row matching the
page's filters ("select all N matching").

The page shows 50 rows; "all matching" is resolved here, on the server, with the same query
the page lists (models/contacts/clients.py `clients_matching`, models/sales/leads.py
`leads_matching`), so it holds only what the user may see. A selection larger than
MAX_SELECTED is refused with the reason instead of being cut silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from tortoise.queryset import QuerySet

from models.contacts.clients import clients_matching
from models.core.errors import ValidationFailed, msg
from models.sales.leads import leads_matching
from models.schema.clients import Client
from models.schema.leads import Lead
from models.schema.users import User

# The most rows one bulk action takes (a dialer list holds at most as many numbers).
MAX_SELECTED = 10_000


@dataclass(frozen=True)
class ClientFilters:
    """The clients list's filters (its query string)."""

    mine: bool = False
    query: str | None = None
    tag: str | None = None
    status: str | None = None
    responsible_id: int | None = None
    created_since: datetime | None = None  # UTC bounds of the user's days [since, until)
    created_until: datetime | None = None


@dataclass(frozen=True)
class LeadFilters:
    """The leads list's filters: the view (mine, unhandled, all), the search, the status
    (None: any), the creation time."""

    view: str = "mine"
    query: str | None = None
    status: str | None = "open"
    responsible_id: int | None = None
    created_since: datetime | None = None
    created_until: datetime | None = None


async def _capped_ids(qs: QuerySet[Client] | QuerySet[Lead], cap: int) -> list[int] | None:
    """The ids newest first, as the list shows them; None when more than `cap` match (one row
    past the cap tells it without a COUNT over the whole table)."""
    ids = cast(list[int], await qs.order_by("-id").limit(cap + 1).values_list("id", flat=True))
    return ids if len(ids) <= cap else None


async def matching_client_ids(
    user: User, filters: ClientFilters, *, cap: int | None = None
) -> list[int]:
    """Every client the list shows `user` with these filters, newest first (at most `cap`,
    by default MAX_SELECTED)."""
    cap = MAX_SELECTED if cap is None else cap
    qs = await clients_matching(
        user,
        mine=filters.mine,
        query=filters.query,
        tag=filters.tag,
        status=filters.status,
        responsible_id=filters.responsible_id,
        created_since=filters.created_since,
        created_until=filters.created_until,
    )
    ids = await _capped_ids(qs, cap)
    if ids is None:
        too_many = msg(
            "more than %(max)s clients match these filters: narrow them down (one action "
            "takes at most %(max)s)",
            max=cap,
        )
        raise ValidationFailed({"selection": too_many})
    return ids


async def matching_lead_ids(
    user: User, filters: LeadFilters, *, cap: int | None = None
) -> list[int]:
    """Every lead the list shows `user` with these filters, newest first (at most `cap`, by
    default MAX_SELECTED)."""
    cap = MAX_SELECTED if cap is None else cap
    qs = await leads_matching(
        user,
        view=filters.view,
        status=filters.status,
        query=filters.query,
        responsible_id=filters.responsible_id,
        created_since=filters.created_since,
        created_until=filters.created_until,
    )
    ids = await _capped_ids(qs, cap)
    if ids is None:
        too_many = msg(
            "more than %(max)s leads match these filters: narrow them down (one action "
            "takes at most %(max)s)",
            max=cap,
        )
        raise ValidationFailed({"selection": too_many})
    return ids
