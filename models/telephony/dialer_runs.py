"""The auto-dialer runner's side of the lists (Q1): claiming the next number, finding the call
placed for it, recording its result and finishing the list.

Only the daemon's runner (daemon/dialer.py) calls these; front-ends build and drive the lists
through models/telephony/dialer.py. Each step is a conditional update, so that two runners, or a
runner and an agent skipping the number, never both act on one entry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.core.clock import Clock
from models.schema.calls import Call
from models.schema.dialer import DialerEntry, DialerList
from models.telephony.dialer import DIALING, DONE, FINISHED, PAUSED, PENDING, RUNNING

# Call.result (as the tracker stores it) -> the dialer entry's result.
CALL_RESULTS = {
    "answered": "answered",
    "no_answer": "no_answer",
    "missed": "no_answer",
    "busy": "busy",
    "failed": "failed",
}


async def dialing_entry(list_id: int) -> DialerEntry | None:
    """The entry whose call was placed and whose result is not known yet (at most one)."""
    return await DialerEntry.filter(dialer_list_id=list_id, state=DIALING).first()


async def claim_next(list_id: int, request_id: str, *, clock: Clock) -> DialerEntry | None:
    """Take the next pending entry for dialing, if the list is still running.

    The conditional update makes the claim atomic: two runners (or a runner and a user
    skipping the number) never both get it. The request id is stored before the call is
    placed, so that a restart finds the call again.
    """
    for _ in range(5):
        if not await DialerList.filter(id=list_id, status=RUNNING).exists():
            return None
        entry = (
            await DialerEntry.filter(dialer_list_id=list_id, state=PENDING)
            .order_by("position")
            .first()
        )
        if entry is None:
            return None
        updated = await DialerEntry.filter(id=entry.id, state=PENDING).update(
            state=DIALING, request_id=request_id, dialed_at=clock.now()
        )
        if updated:
            entry.state, entry.request_id = DIALING, request_id
            return entry
    return None


async def set_linkedid(entry_id: int, linkedid: str) -> None:
    await DialerEntry.filter(id=entry_id, linkedid__isnull=True).update(linkedid=linkedid)


def result_of_call(call: Call) -> str:
    return CALL_RESULTS.get(call.result, "failed")


async def call_of_entry(entry: DialerEntry, extension: str) -> Call | None:
    """The stored call placed for `entry`: by the request id, else by the linked id, else by
    the agent's extension and the number around the time it was dialed (a call the PBX
    carried on with while the daemon was down may have lost the request id)."""
    if entry.request_id:
        call = await Call.filter(action_id=entry.request_id).first()
        if call is not None:
            return call
    if entry.linkedid:
        call = await Call.filter(linkedid=entry.linkedid).first()
        if call is not None:
            return call
    if entry.e164 and entry.dialed_at is not None and extension:
        return (
            await Call.filter(
                Q(peer_e164=entry.e164) | Q(to_number=entry.e164),
                agent_extension=extension,
                started_at__gte=entry.dialed_at - timedelta(seconds=5),
            )
            .order_by("started_at")
            .first()
        )
    return None


async def record_result(
    entry_id: int,
    result: str,
    *,
    reason: str = "",
    call_id: int | None = None,
    linkedid: str | None = None,
    ended_at: datetime,
) -> bool:
    """Store the outcome of a dialed entry and when the list's last call ended (once)."""
    changes: dict[str, Any] = {
        "state": DONE,
        "result": result,
        "reason": reason[:255],
        "ended_at": ended_at,
    }
    if call_id is not None:
        changes["call_id"] = call_id
    if linkedid:
        changes["linkedid"] = linkedid
    async with in_transaction():
        updated = await DialerEntry.filter(id=entry_id, state=DIALING).update(**changes)
        if updated:
            entry = await DialerEntry.get(id=entry_id)
            await DialerList.filter(id=entry.dialer_list_id).update(last_ended_at=ended_at)
    return bool(updated)


async def finish_if_done(list_id: int, *, clock: Clock) -> bool:
    """A running list with nothing pending or being dialed is finished."""
    if await DialerEntry.filter(dialer_list_id=list_id, state__in=(PENDING, DIALING)).exists():
        return False
    updated = await DialerList.filter(id=list_id, status__in=(RUNNING, PAUSED)).update(
        status=FINISHED, finished_at=clock.now()
    )
    return bool(updated)
