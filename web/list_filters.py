"""How the clients and leads lists read their filters from a query string: once, for the list
page and for its bulk actions' "all N matching" (web/views/selection.py), so both act on the
same rows."""

from __future__ import annotations

from collections.abc import Mapping

from models.reporting.periods import day_filter
from models.sales import leads as lead_ops
from models.sales.selection import ClientFilters, LeadFilters
from models.schema.users import User
from web.views.common import int_param


def client_filters(user: User, query: Mapping[str, str]) -> ClientFilters:
    """The clients list's filters; the dates are the user's days (a bad date: ValidationFailed)."""
    created = day_filter(user, query.get("from"), query.get("to"))
    return ClientFilters(
        mine=query.get("view") == "mine",
        query=query.get("q") or None,
        tag=query.get("tag") or None,
        status=query.get("status") or None,
        responsible_id=int_param(query.get("responsible")),
        created_since=created.start,
        created_until=created.end,
    )


def lead_view(query: Mapping[str, str]) -> str:
    view = query.get("view", "mine")
    return view if view in lead_ops.VIEWS else "mine"


def lead_status(query: Mapping[str, str]) -> str:
    """The status tab: the open leads by default; "any" lists every status."""
    return query.get("status") or "open"


def lead_filters(user: User, query: Mapping[str, str]) -> LeadFilters:
    """The leads list's filters; the dates are the user's days."""
    status = lead_status(query)
    created = day_filter(user, query.get("from"), query.get("to"))
    return LeadFilters(
        view=lead_view(query),
        query=query.get("q") or None,
        status=None if status == "any" else status,
        created_since=created.start,
        created_until=created.end,
    )
