"""Calls as the PBX link reports them, for tests that store calls."""

from __future__ import annotations

from datetime import UTC, datetime

from models.telephony.call_record import CallRecord

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def inbound(
    linkedid: str, number: str, *, result="answered", ext="101", did="900100200"
) -> CallRecord:
    """An inbound call to the company's DID at T0; answered ones by `ext`, 65 s of talk."""
    return CallRecord(
        linkedid=linkedid,
        direction="in",
        from_number=number,
        to_number=did,
        did=did,
        started_at=T0,
        result=result,
        agent_extension=ext if result == "answered" else "",
        talk_seconds=65 if result == "answered" else 0,
    )
