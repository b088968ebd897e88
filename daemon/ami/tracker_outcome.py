"""Turning a finished `Call` into the `CallRecord` the domain stores.

The rules follow what both trace corpora show (see their READMEs):

* answered means two parties were connected (bridged, possibly through Local helpers);
  a phone or trunk that went Up alone (a queue, an announcement, a call-acceptance
  prompt) is not an answer;
* an inbound call nobody answered is missed, whatever the reason;
* otherwise the reason comes first from the far leg (an unallocated number or congestion
  is a failure even when DialEnd says NOANSWER), then from the caller's hang-up cause,
  then from the dial status.
"""

from __future__ import annotations

from datetime import UTC, datetime

from daemon.ami.tracker_state import Call, Chan
from models.telephony.call_record import CallRecord

# Q.850 causes that mean the number or the network failed, not the person.
FAILED_CAUSES = frozenset({1, 2, 3, 20, 22, 27, 28, 31, 34, 38, 41, 42, 44, 47, 58, 65, 66, 79, 88})
BUSY_CAUSES = frozenset({17, 21})
NO_ANSWER_CAUSES = frozenset({18, 19})
CANCEL_CAUSES = frozenset({0, 127})


def to_datetime(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _seconds(value: float) -> int:
    return max(0, int(value + 0.5))


def unanswered_result(call: Call, direction: str, caller: Chan | None, a_side: Chan | None) -> str:
    if direction == "in":
        return "missed"
    far = [c for c in call.chans.values() if c.is_party and c is not a_side]
    statuses = {c.dial_status for c in far}
    if any(c.cause in FAILED_CAUSES for c in far) or statuses & {"CONGESTION", "CHANUNAVAIL"}:
        return "failed"
    if not far:
        # The PBX never reached anyone beyond the A side: a click-to-call whose own
        # agent leg failed (rang out, declined).
        return "failed"
    own = a_side.cause if a_side is not None else None
    if own in BUSY_CAUSES:
        return "busy"
    if own in NO_ANSWER_CAUSES:
        return "no_answer"
    if "BUSY" in statuses or any(c.cause in BUSY_CAUSES for c in far):
        return "busy"
    if caller is not None and caller.state != 6 and own in CANCEL_CAUSES:
        # The caller gave up while it rang: for a colleague that is a missed call.
        return "missed" if direction == "internal" else "no_answer"
    if "CANCEL" in statuses and direction == "internal":
        return "missed"
    return "no_answer"


def answerer(call: Call, a_side: Chan | None) -> Chan | None:
    """The party that answered the A side first."""
    for left, right in call.first_pairs:
        if left is a_side:
            return right
        if right is a_side:
            return left
    for left, right in call.first_pairs:
        for chan in (left, right):
            if chan.is_agent and chan is not a_side:
                return chan
    return call.first_pairs[0][1] if call.first_pairs else None


def hangup_cause(call: Call) -> int | None:
    causes = [c.cause for c in call.chans.values() if c.is_party and c.cause is not None]
    for cause in causes:
        if cause:
            return cause
    return causes[0] if causes else None


def build_record(call: Call, now: float) -> CallRecord:
    caller = call.caller()
    a_side = call.a_side()
    b_side = call.b_side(a_side)
    direction = call.direction()
    answered = call.answered_at is not None
    who = answerer(call, a_side) if answered else None

    from_number, to_number = call.numbers(direction)
    if direction == "out":
        agent = a_side.ext if a_side is not None and a_side.is_agent else ""
    else:
        agent = who.ext if who is not None and who.is_agent else ""

    ended = call.ended_at if call.ended_at is not None else now
    if caller is not None:
        wait_from = caller.created
    else:
        wait_from = b_side.created if b_side is not None else call.started
    wait_to = call.answered_at if answered else ended
    talk = call.talk + ((ended - call.connected_since) if call.connected else 0.0)

    return CallRecord(
        linkedid=call.linkedid,
        direction=direction,
        from_number=from_number,
        to_number=to_number,
        started_at=to_datetime(call.started),  # type: ignore[arg-type]
        result="answered" if answered else unanswered_result(call, direction, caller, a_side),
        did=call.did() if direction == "in" else "",
        agent_extension=agent,
        answered_at=to_datetime(call.answered_at),
        ended_at=to_datetime(ended),
        wait_seconds=_seconds(max(0.0, wait_to - wait_from)),
        talk_seconds=_seconds(talk),
        hangup_cause=hangup_cause(call),
        recording_path=call.recording,
        action_id=call.request_id or call.action_id,
        rang_extensions=list(call.rang),
        transfers=[dict(t) for t in call.transfers],
        caller_name=caller.cid_name if direction == "in" and caller is not None else "",
    )
