"""Speech recognition of call recordings (X2): which calls are due, and what became of them.

A call is due when it was answered, has a recording, has no transcript and has not failed
one yet, and the company's switch "transcribe calls" is on. The engines that turn audio into text
live in `daemon/transcription/`; this module only keeps the rules and the results: the text
on the call (searchable from the calls list), a timeline entry on its client or lead with the
transcript's beginning, or the reason it failed, so a broken recording is never tried forever.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from models.contacts import timeline
from models.contacts.timeline_text import detail
from models.core.errors import NotFound
from models.people.permissions import require
from models.people.users import get_telephony
from models.schema.calls import Call
from models.schema.users import User
from models.telephony.call_history import recording_file

logger = logging.getLogger(__name__)

SNIPPET_CHARS = 200  # of the transcript, on the timeline entry
ERROR_CHARS = 500  # Call.transcription_error's length


class RecordingUnusableError(Exception):
    """The call's recording cannot be transcribed (missing, outside the folder, not audio)."""


async def is_enabled() -> bool:
    """The company's switch: transcribe answered calls' recordings."""
    return (await get_telephony()).is_transcribe_calls


async def set_enabled(actor: User, on: bool) -> None:
    """Turn transcription of calls on or off for the company (settings.manage)."""
    require(actor, "settings.manage")
    telephony = await get_telephony()
    telephony.is_transcribe_calls = on
    await telephony.save(update_fields=["is_transcribe_calls"])


async def due_call_ids(limit: int = 20) -> list[int]:
    """The oldest calls waiting for a transcript (none while the company switch is off)."""
    if not await is_enabled():
        return []
    rows: list[Any] = await (
        Call.filter(result="answered", transcribed_at=None, transcript="")
        .exclude(recording_path="")
        .order_by("id")
        .limit(max(1, limit))
        .values_list("id", flat=True)
    )
    return [int(row) for row in rows]  # values_list(flat=True): the ids themselves


async def get_call(call_id: int) -> Call:
    call = await Call.get_or_none(id=call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call


def recording_of(call: Call, recordings_dir: Path) -> Path:
    """The call's recording file, or RecordingUnusableError saying why not."""
    try:
        return recording_file(call, recordings_dir)
    except Exception as err:  # NotFound, PermissionDenied: their message says what is wrong
        raise RecordingUnusableError(str(err) or type(err).__name__) from err


async def store_transcript(call_id: int, text: str, at: datetime) -> Call:
    """Keep the call's transcript; its client's or lead's timeline gets an entry."""
    call = await get_call(call_id)
    call.transcript = " ".join(text.split())
    call.transcribed_at = at
    call.transcription_error = ""
    await call.save(update_fields=["transcript", "transcribed_at", "transcription_error"])
    if call.transcript:
        snippet = call.transcript
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[: SNIPPET_CHARS - 1].rstrip() + "…"
        await timeline.add_entry(
            "call",
            at,
            client_id=call.client_id,
            lead_id=call.lead_id,
            ref_id=call.id,
            detail=detail("call_transcribed", text=snippet),
            user_id=call.agent_id,
        )
    logger.info("call %s (%s) transcribed: %d characters", call.id, call.linkedid, len(text))
    return call


async def record_failure(call_id: int, reason: str, at: datetime) -> Call:
    """The call could not be transcribed: keep why (shown on its page); it is not retried
    unless someone asks for it again (`centralita transcribe CALL_ID`)."""
    call = await get_call(call_id)
    call.transcribed_at = at
    call.transcription_error = (reason or "unknown error")[:ERROR_CHARS]
    await call.save(update_fields=["transcribed_at", "transcription_error"])
    logger.warning("call %s (%s) not transcribed: %s", call.id, call.linkedid, reason)
    return call
