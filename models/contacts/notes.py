"""Notes on clients, leads, deals and calls (C7).

A note lands on the timeline of whoever it concerns: a note on a deal on its client's, a note
on a call on the call's client's or lead's.
"""

from __future__ import annotations

import logging
from datetime import datetime

from models.contacts.timeline import add_entry
from models.core.clock import Clock, SystemClock
from models.core.errors import ValidationFailed, msg
from models.people.permissions import CALLS, CLIENTS, DEALS, LEADS, has_right, visible_record
from models.schema.activity import Note
from models.schema.calls import Call
from models.schema.clients import Client
from models.schema.deals import Deal
from models.schema.leads import Lead
from models.schema.users import User

logger = logging.getLogger(__name__)

MAX_NOTE = 10_000


async def _target(
    user: User, client_id: int | None, lead_id: int | None, deal_id: int | None, call_id: int | None
) -> tuple[int | None, int | None]:
    """The client and lead the note belongs to, after checking the user may see them."""
    if call_id is not None:
        call = await Call.get_or_none(id=call_id)
        # A call nobody answered is everyone's to write about; another agent's is not there.
        if call is None or (
            call.agent_id not in (None, user.id) and not has_right(user, "calls.view_all")
        ):
            raise CALLS.not_found(call_id)
        client_id = client_id or call.client_id
        lead_id = lead_id or call.lead_id
    if deal_id is not None:
        deal = await visible_record(user, DEALS, Deal, deal_id)
        client_id = client_id or deal.client_id
    if client_id is not None and call_id is None and deal_id is None:
        await visible_record(user, CLIENTS, Client, client_id)
    if lead_id is not None and call_id is None:
        lead = await visible_record(user, LEADS, Lead, lead_id)
        if lead.converted_client_id and client_id is None:
            client_id = lead.converted_client_id
    return client_id, lead_id


async def add_note(
    user: User,
    text: str,
    *,
    client_id: int | None = None,
    lead_id: int | None = None,
    deal_id: int | None = None,
    call_id: int | None = None,
    clock: Clock | None = None,
) -> Note:
    """Add a note; it needs text and something to be about."""
    clock = clock or SystemClock()
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"text": msg("the note is empty")})
    if len(text) > MAX_NOTE:
        raise ValidationFailed({"text": msg("at most %(max)s characters", max=MAX_NOTE)})
    if client_id is None and lead_id is None and deal_id is None and call_id is None:
        raise ValidationFailed(
            {"target": msg("a note is about a client, a lead, a deal or a call")}
        )
    client_id, lead_id = await _target(user, client_id, lead_id, deal_id, call_id)
    note = await record_note(
        text,
        clock.now(),
        author_id=user.id,
        client_id=client_id,
        lead_id=lead_id,
        deal_id=deal_id,
        call_id=call_id,
    )
    logger.info(
        "note %s added by %s (client=%s lead=%s call=%s)",
        note.id,
        user.username,
        client_id,
        lead_id,
        call_id,
    )
    return note


async def record_note(
    text: str,
    now: datetime,
    *,
    author_id: int | None = None,
    client_id: int | None = None,
    lead_id: int | None = None,
    deal_id: int | None = None,
    call_id: int | None = None,
) -> Note:
    """Write a checked note and its timeline entry (its first line); `author_id` None: the
    system wrote it (a web form). Callers check the text and the reader's rights first."""
    note = await Note.create(
        text=text,
        author_id=author_id,
        client_id=client_id,
        lead_id=lead_id,
        deal_id=deal_id,
        call_id=call_id,
        created_at=now,
    )
    first_line = text.splitlines()[0]
    await add_entry(
        "note",
        now,
        client_id=client_id,
        lead_id=lead_id,
        ref_id=note.id,
        user_id=author_id,
        summary=first_line if len(first_line) <= 200 else first_line[:199] + "…",
    )
    return note


async def notes_of(
    *,
    client_id: int | None = None,
    lead_id: int | None = None,
    deal_id: int | None = None,
    call_id: int | None = None,
    limit: int = 50,
) -> list[Note]:
    """Notes of one object, newest first (the caller has already checked it may see it)."""
    filters = {
        k: v
        for k, v in {
            "client_id": client_id,
            "lead_id": lead_id,
            "deal_id": deal_id,
            "call_id": call_id,
        }.items()
        if v is not None
    }
    if not filters:
        return []
    return list(
        await Note.filter(**filters)
        .order_by("-created_at", "-id")
        .limit(limit)
        .select_related("author")
    )
