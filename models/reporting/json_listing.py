"""Read-only listings of calls and leads as plain dicts (CLI `calls --json`, `leads --json`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from models.schema.calls import Call
from models.schema.leads import Lead


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def call_to_dict(call: Call) -> dict[str, Any]:
    return {
        "id": call.id,
        "linkedid": call.linkedid,
        "direction": call.direction,
        "from": call.from_number,
        "to": call.to_number,
        "did": call.did,
        "agent_extension": call.agent_extension,
        "agent": call.agent.username if call.agent else None,
        "client_id": call.client_id,
        "lead_id": call.lead_id,
        "result": call.result,
        "started_at": _iso(call.started_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
        "hangup_cause": call.hangup_cause,
        "recording": call.recording_path or None,
        "transfers": call.transfers,
    }


async def iter_calls(
    since: datetime | None = None, batch: int = 1000
) -> AsyncIterator[dict[str, Any]]:
    """Every recorded call (from `since`), oldest first, in batches to bound memory."""
    last_id = 0
    while True:
        query = Call.filter(id__gt=last_id).order_by("id").limit(batch).prefetch_related("agent")
        if since is not None:
            query = query.filter(started_at__gte=since)
        rows = await query
        if not rows:
            return
        for call in rows:
            yield call_to_dict(call)
        last_id = rows[-1].id


def lead_to_dict(lead: Lead, phones: list[str]) -> dict[str, Any]:
    return {
        "id": lead.id,
        "name": lead.name,
        "status": lead.status,
        "source": lead.source,
        "source_tag": lead.source_tag.name if lead.source_tag else None,
        "responsible": lead.responsible.username if lead.responsible else None,
        "is_unhandled": lead.responsible_id is None,
        "phones": phones,
        "created_at": _iso(lead.created_at),
    }


async def iter_leads(batch: int = 1000) -> AsyncIterator[dict[str, Any]]:
    last_id = 0
    while True:
        rows = (
            await Lead.filter(id__gt=last_id)
            .order_by("id")
            .limit(batch)
            .prefetch_related("responsible", "source_tag", "phones")
        )
        if not rows:
            return
        for lead in rows:
            phones = [p.e164 or p.typed for p in sorted(lead.phones, key=lambda p: p.position)]
            yield lead_to_dict(lead, phones)
        last_id = rows[-1].id
