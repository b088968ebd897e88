"""events.list and events.instances of the fake: which events a query returns, in what order."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tests.fakes import google_calendar_time as gtime
from tests.fakes.google_calendar_store import (
    ApiError,
    Calendar,
    Store,
    Stored,
    minimal_cancelled,
    start_key,
)

NOT_WITH_SYNC = ("timeMin", "timeMax", "orderBy", "updatedMin", "q", "iCalUID")


def _flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "false").lower() == "true"


def _instant(params: Mapping[str, str], name: str) -> datetime | None:
    if name not in params:
        return None
    try:
        return gtime.parse_instant(params[name])
    except gtime.BadTimeError as err:
        raise ApiError(400, "badRequest", "Bad Request") from err


class Query:
    """One events.list query, parsed and checked as the API checks it."""

    def __init__(self, params: Mapping[str, str], props: dict[str, list[str]]) -> None:
        self.sync_token = params.get("syncToken")
        if self.sync_token and any(name in params for name in NOT_WITH_SYNC):
            raise ApiError(400, "invalid", "Sync token cannot be used with other query filters.")
        self.single = _flag(params, "singleEvents")
        self.show_deleted = _flag(params, "showDeleted") or bool(self.sync_token)
        self.order_by = params.get("orderBy")
        if self.order_by not in (None, "startTime", "updated"):
            raise ApiError(400, "invalid", "Invalid Value")
        if self.order_by == "startTime" and not self.single:
            raise ApiError(
                400, "invalid", "The requested ordering is not available for the particular query."
            )
        self.time_min = _instant(params, "timeMin")
        self.time_max = _instant(params, "timeMax")
        if self.time_min and self.time_max and self.time_max <= self.time_min:
            raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.")
        self.updated_min = _instant(params, "updatedMin")
        self.ical_uid = params.get("iCalUID")
        self.text = params.get("q", "").lower()
        self.props = props

    def shows(self, body: dict[str, Any]) -> bool:
        """Filters of a full list (a sync skips them: every change is returned)."""
        if body.get("status") == "cancelled" and not self.show_deleted:
            return False
        if self.ical_uid and body.get("iCalUID") != self.ical_uid:
            return False
        if self.updated_min and gtime.parse_instant(body["updated"]) < self.updated_min:
            return False
        for kind, wanted in self.props.items():
            have = body.get("extendedProperties", {}).get(kind, {})
            for pair in wanted:
                key, _, value = pair.partition("=")
                if have.get(key) != value:
                    return False
        if self.text:
            words = " ".join(str(body.get(k, "")) for k in ("summary", "description", "location"))
            if self.text not in words.lower():
                return False
        return True

    def in_window(self, body: dict[str, Any]) -> bool:
        if "start" not in body:
            return True
        if self.time_min and gtime.event_time(body["end"]) <= self.time_min:
            return False
        return not (self.time_max and gtime.event_time(body["start"]) >= self.time_max)


def list_events(store: Store, calendar: Calendar, query: Query) -> list[dict[str, Any]]:
    since = store.sync_point(calendar, query.sync_token) if query.sync_token else None
    items: list[dict[str, Any]] = []
    for stored in calendar.events.values():
        body = stored.body
        if "recurringEventId" in body:
            if query.single:
                continue  # returned in place of its instance below
            if since is not None:
                if stored.changed > since:
                    items.append(_shown(stored))
            elif query.shows(body) and query.in_window(body):
                items.append(_shown(stored))
        elif "recurrence" in body and query.single and not stored.deleted:
            items.extend(_instances(store, calendar, stored, query, since))
        elif since is not None:
            if stored.changed > since:
                items.append(_shown(stored))
        elif query.shows(body) and _series_in_window(store, calendar, stored, query):
            items.append(_shown(stored))
    return _ordered(items, query.order_by)


def list_instances(
    store: Store, calendar: Calendar, master: Stored, query: Query
) -> list[dict[str, Any]]:
    if "recurrence" not in master.body or master.deleted:
        return []
    return _instances(store, calendar, master, query, None)


def _instances(
    store: Store, calendar: Calendar, master: Stored, query: Query, since: int | None
) -> list[dict[str, Any]]:
    found = []
    for exception, body in store.instances(calendar, master):
        if since is not None:
            changed = master.changed > since or (exception and exception.changed > since)
            if changed:
                found.append(body)
        elif query.shows(body) and query.in_window(body):
            found.append(body)
    return found


def _series_in_window(store: Store, calendar: Calendar, stored: Stored, query: Query) -> bool:
    if stored.deleted or not (query.time_min or query.time_max):
        return True
    if "recurrence" not in stored.body:
        return query.in_window(stored.body)
    return any(query.in_window(body) for _, body in store.instances(calendar, stored))


def _shown(stored: Stored) -> dict[str, Any]:
    if stored.deleted:
        return minimal_cancelled(stored.body)
    return copy.deepcopy(stored.body)


def _ordered(items: list[dict[str, Any]], order_by: str | None) -> list[dict[str, Any]]:
    if order_by == "startTime":
        return sorted(items, key=start_key)
    if order_by == "updated":
        return sorted(items, key=lambda body: body.get("updated", ""))
    return items
