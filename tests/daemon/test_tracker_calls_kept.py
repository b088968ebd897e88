"""No call is lost from the calls list: every Linkedid that rang an agent is a stored call,
and every call a transfer touched carries it (issue 14 item 7).

The calls are counted here from the raw events of each recording, the way a person reads
them (a DialBegin towards an agent's phone belongs to the call of the channel that dials),
not with the tracker's code; only its output (the records) is compared with that count.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from daemon.ami.traces import load_events
from tests.daemon.test_tracker_corpora import CACO_DEVICES, all_traces, replay, trace_name

# ami-traces README, "how to read the channel names": the ;1 half of Local/<ext>@agents.
_AMI_AGENT = re.compile(r"^Local/\d+@agents-[0-9a-f]+;1$")

# Stored calls that ring no agent at all, read from the corpus READMEs: outside callers
# routed to outside (mobile) destinations or to nothing, the PBX connecting two outside
# numbers, and calls an agent placed from the desk phone to an outside number.
CALLS_RINGING_NO_AGENT = {
    "mobile/acceptance_group_pickup.json": 1,
    "mobile/acceptance_group_reject.json": 1,
    "mobile/acceptance_reject.json": 1,
    "mobile/acceptance_simple.json": 1,
    "mobile/acceptance_timeout.json": 1,
    "mobile/simple_mobile.json": 1,
    "originate/cmn-world-world.json": 1,
    "simple/a_created_no_answer.json": 1,
    "simple/ab_success_twoclients.json": 1,  # customer 26001's phone calling out
    "var_set/user_events.json": 1,  # the same two-customer call
    "xfer_blonde/xfer_blonde_group_a.json": 1,  # 201's own call to the outside party
}


def is_agent_phone(path: Path, channel: str) -> bool:
    if path.suffix == ".ami":
        return bool(_AMI_AGENT.match(channel))
    # cacofonisk README glossary: SIP/150010001-0000003d is the phone account SIP/150010001.
    return channel.rsplit("-", 1)[0] in CACO_DEVICES


def linkedids_that_rang_an_agent(path: Path, events: list[dict[str, str]]) -> set[str]:
    """The calls in which the PBX dialled an agent's phone.

    A DialBegin belongs to the call of the channel that dials (`Linkedid`); one without a
    dialling channel is an Originate ringing the agent, whose call is the agent's leg's.
    """
    return {
        event.get("Linkedid") or event["DestLinkedid"]
        for event in events
        if event.get("Event") == "DialBegin" and is_agent_phone(path, event.get("DestChannel", ""))
    }


def linkedids_transferred(path: Path, events: list[dict[str, str]]) -> set[str]:
    """Calls a transfer took effect in, from the transfer events.

    AttendedTransfer joins the calls of its two transferer channels (one call or two);
    BlindTransfer counts once an agent's phone rings for the transferred party afterwards
    (to an unreachable target nothing rings: the READMEs expect no transfer then).
    """
    found: set[str] = set()
    for index, event in enumerate(events):
        if event.get("Result") != "Success":
            continue
        if event.get("Event") == "AttendedTransfer":
            found |= {event["OrigTransfererLinkedid"], event["SecondTransfererLinkedid"]}
        elif event.get("Event") == "BlindTransfer":
            call = event.get("TransfereeLinkedid") or event["TransfererLinkedid"]
            if any(
                later.get("Event") == "Newstate"
                and later.get("ChannelState") == "5"
                and later.get("Linkedid") == call
                and is_agent_phone(path, later.get("Channel", ""))
                for later in events[index + 1 :]
            ):
                found.add(call)
    return found


@pytest.mark.parametrize("path", all_traces(), ids=trace_name)
def test_every_call_that_rang_an_agent_is_stored_once(path: Path):
    events = load_events(path)
    rang = linkedids_that_rang_an_agent(path, events)
    _, records = replay(path)
    stored = [r.linkedid for r in records]

    assert len(stored) == len(set(stored)), "a call stored twice"
    assert rang <= set(stored), f"rang an agent but not stored: {sorted(rang - set(stored))}"
    assert len(stored) == len(rang) + CALLS_RINGING_NO_AGENT.get(trace_name(path), 0)


@pytest.mark.parametrize("path", all_traces(), ids=trace_name)
def test_every_transferred_call_carries_its_transfer(path: Path):
    events = load_events(path)
    transferred = linkedids_transferred(path, events)
    _, records = replay(path)
    by_linkedid = {r.linkedid: r for r in records}

    assert transferred <= set(by_linkedid)
    for linkedid in transferred:
        transfers = by_linkedid[linkedid].transfers
        assert transfers, f"call {linkedid} was transferred but its record does not say so"
        # Who transferred: an agent's extension; to whom: the party the call went on with.
        assert all(t["from"] and t["to"] for t in transfers), transfers


def test_an_agent_joining_two_callers_leaves_both_calls_on_the_list():
    """xfer_abcbac (cacofonisk README): 202 calls 201, 203 calls 201, 201 connects them."""
    path = next(p for p in all_traces() if p.name == "xfer_abcbac.json")
    _, records = replay(path)
    calls = {(r.from_number, r.to_number): r for r in records}

    assert set(calls) == {("202", "201"), ("203", "201")}
    for record in calls.values():
        assert record.result == "answered" and record.agent_extension == "201"
        assert record.rang_extensions == ["201"]
    assert calls[("202", "201")].transfers == [{"from": "201", "to": "203", "kind": "attended"}]
    assert calls[("203", "201")].transfers == [{"from": "201", "to": "202", "kind": "attended"}]
