"""The timeline of a client or a lead (C7): one row per thing that happened, newest first.

Every operation that creates something a user would look for on the card (a call, a note,
a task, a deal or its move, an SMS, an email, the lead itself) adds an entry here, so that
the card shows its history with one indexed query instead of a union over six tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.contacts.timeline_text import english
from models.people.permissions import CLIENTS, LEADS, visible_record
from models.schema.activity import TimelineEntry
from models.schema.clients import Client
from models.schema.leads import Lead
from models.schema.users import User

KINDS = ("call", "note", "task", "deal", "email", "sms", "lead", "client", "converted")


@dataclass(frozen=True)
class TimelineItem:
    """One entry as front-ends show it."""

    id: int
    kind: str
    ref_id: int | None
    summary: str
    at: datetime
    user_id: int | None
    client_id: int | None
    lead_id: int | None
    detail: dict[str, Any] = field(default_factory=dict)  # see models/contacts/timeline_text.py


async def add_entry(
    kind: str,
    at: datetime,
    *,
    client_id: int | None = None,
    lead_id: int | None = None,
    ref_id: int | None = None,
    summary: str = "",
    detail: dict[str, Any] | None = None,
    user_id: int | None = None,
) -> TimelineEntry | None:
    """Record that something happened to a client or a lead; nothing when it has neither.

    `detail` (from `models.contacts.timeline_text.detail`) lets each reader see the entry in their
    language; the summary is then its English sentence unless one is given (a note's text).
    """
    if client_id is None and lead_id is None:
        return None
    if detail and not summary:
        summary = english(detail)
    return await TimelineEntry.create(
        kind=kind,
        at=at,
        client_id=client_id,
        lead_id=lead_id,
        ref_id=ref_id,
        summary=summary[:500],
        detail=detail or {},
        user_id=user_id,
    )


def _item(row: TimelineEntry) -> TimelineItem:
    return TimelineItem(
        id=row.id,
        kind=row.kind,
        ref_id=row.ref_id,
        summary=row.summary,
        at=row.at,
        user_id=row.user_id,
        client_id=row.client_id,
        lead_id=row.lead_id,
        detail=row.detail or {},
    )


async def _page(filters: dict[str, Any], limit: int, before: datetime | None) -> list[TimelineItem]:
    query = TimelineEntry.filter(**filters)
    if before is not None:
        query = query.filter(at__lt=before)
    rows = await query.order_by("-at", "-id").limit(max(1, min(limit, 500)))
    return [_item(r) for r in rows]


async def client_timeline(
    user: User, client_id: int, *, limit: int = 50, before: datetime | None = None
) -> list[TimelineItem]:
    """A client's history, newest first; `before` pages back in time."""
    await visible_record(user, CLIENTS, Client, client_id)
    return await _page({"client_id": client_id}, limit, before)


async def lead_timeline(
    user: User, lead_id: int, *, limit: int = 50, before: datetime | None = None
) -> list[TimelineItem]:
    """A lead's history, newest first (after conversion it stays readable here too)."""
    await visible_record(user, LEADS, Lead, lead_id)
    return await _page({"lead_id": lead_id}, limit, before)
