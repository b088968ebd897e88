"""Whom a pop-up names (issue 14, items 1-2): the number an outbound call is for, and the name
the PBX gives an outside caller. Recorded traces where they cover it, written events otherwise.
"""

from __future__ import annotations

import pytest

from daemon.ami.calls_service import CallsService
from daemon.ami.traces import load_events
from daemon.ami.tracker import CallTracker
from daemon.ami.tracker_types import Answered, Ended, Ringing, StoppedRinging
from models.core.events import CallRang
from models.core.settings import AmiSettings
from models.telephony.caller_directory import CallerDirectory
from tests.daemon.test_tracker_behaviour import _Pbx
from tests.daemon.test_tracker_corpora import AMI_DIR, CACO_DIR, ami_tracker, caco_tracker


def _feed(tracker: CallTracker, events) -> list:
    return [t for event in events for t in tracker.feed(event)]


# The click-to-calls of ami-traces/README.md: (trace, the Originate's variable, number, agent).
CLICK_TO_CALLS = [
    ("click_to_call_answered.ami", "c2c-0001", "+34911234567", "101"),
    ("originate_noanswer.ami", "c2c-0002", "+34911234568", "101"),
    ("originate_busy.ami", "c2c-0003", "+34911234569", "101"),
    ("originate_agent_noanswer.ami", "c2c-0004", "+34911234567", "102"),
    ("originate_number_unallocated.ami", "c2c-0007", "0034911234560", "101"),
    ("transfer_redirect.ami", "xfer-redirect", "+34911234565", "101"),
]


@pytest.mark.parametrize(("trace", "request_id", "number", "agent"), CLICK_TO_CALLS)
def test_a_click_to_call_pops_up_with_the_number_it_dials(trace, request_id, number, agent):
    events = load_events(AMI_DIR / trace)
    # Asterisk rings the agent before it dials anyone, and names the number only once the
    # agent answered: on its own the tracker has no number for the pop-up.
    alone = [t for t in _feed(ami_tracker(), events) if isinstance(t, Ringing)]
    assert (alone[0].extension, alone[0].caller_number) == (agent, "")

    tracker = ami_tracker()
    tracker.expect_originate(request_id, number)
    rings = [t for t in _feed(tracker, events) if isinstance(t, Ringing)]
    assert (rings[0].extension, rings[0].direction) == (agent, "out")
    assert rings[0].caller_number == number
    assert rings[0].action_id == request_id


def test_an_expected_click_to_call_that_never_comes_is_forgotten_in_time():
    tracker = ami_tracker()
    for n in range(1500):
        tracker.expect_originate(f"lost-{n}", "+34911000000")
    tracker.expect_originate("c2c-0001", "+34911234567")
    rings = [
        t
        for t in _feed(tracker, load_events(AMI_DIR / "click_to_call_answered.ami"))
        if isinstance(t, Ringing)
    ]
    assert rings[0].caller_number == "+34911234567"
    assert len(tracker._expected) <= 1000


def test_an_agent_dialling_out_from_the_desk_phone_gets_a_pop_up_of_whom_it_calls():
    """cacofonisk simple/ab_success_twoclients: 201 dials +31150010001 (a number of the same
    PBX, which then rings 201 as an inbound call)."""
    tracker = caco_tracker()
    transitions = _feed(tracker, load_events(CACO_DIR / "simple/ab_success_twoclients.json"))
    rings = [
        (t.extension, t.direction, t.caller_number) for t in transitions if isinstance(t, Ringing)
    ]
    assert rings[0] == ("201", "out", "+31150010001")
    outbound = rings[0]
    out_linkedid = next(t.linkedid for t in transitions if isinstance(t, Ringing))
    assert ("answer", "201") in [
        ("answer", t.extension)
        for t in transitions
        if isinstance(t, Answered) and t.linkedid == out_linkedid
    ]
    (record,) = [
        t.record for t in transitions if isinstance(t, Ended) and t.record.direction == "out"
    ]
    assert (record.to_number, record.result) == (outbound[2], "answered")
    assert record.rang_extensions == []  # its phone did not ring: it dialled


def test_a_desk_phone_call_answered_only_by_the_pbx_is_not_answered_and_ends_busy():
    pbx = _Pbx()
    agent = pbx.chan("PJSIP/101", CallerIDNum="101", CallerIDName="Luis Pérez", Exten="0911234567")
    pbx.emit("Newstate", agent, ChannelState="4")
    # A dialplan that answers the phone first (a prompt) before it dials out.
    pbx.emit("Newstate", agent, ChannelState="6")
    trunk = pbx.chan(
        "PJSIP/carrier", agent["Linkedid"], CallerIDNum="0911234567", CallerIDName="Luis Pérez"
    )
    pbx.dial(agent, trunk, "DialBegin")
    pbx.later(1)
    pbx.dial(agent, trunk, "DialEnd", DialStatus="BUSY")
    pbx.emit("Hangup", trunk, Cause="17")
    pbx.emit("Hangup", agent, Cause="17")
    transitions = _feed(CallTracker(), pbx.events)
    (ring,) = [t for t in transitions if isinstance(t, Ringing)]
    assert (ring.extension, ring.direction, ring.caller_number) == ("101", "out", "0911234567")
    # The trunk leg carries the name of whoever dialled it: it is not the customer's.
    assert ring.caller_name == ""
    assert not [t for t in transitions if isinstance(t, Answered)]
    assert [(t.extension, t.answered_by) for t in transitions if isinstance(t, StoppedRinging)] == [
        ("101", "")
    ]
    (ended,) = [t for t in transitions if isinstance(t, Ended)]
    assert (ended.record.direction, ended.record.result, ended.record.caller_name) == (
        "out",
        "busy",
        "",
    )


def _inbound(name: str) -> list[dict[str, str]]:
    pbx = _Pbx()
    trunk = pbx.chan("PJSIP/carrier", Exten="900100200")
    pbx.emit("Newstate", trunk, ChannelState="4")
    pbx.emit("NewCallerid", trunk, CallerIDNum="+34600111222", CallerIDName=name)
    agent = pbx.chan("PJSIP/101", trunk["Linkedid"], CallerIDNum="900100200")
    pbx.dial(trunk, agent, "DialBegin")
    pbx.emit("Newstate", agent, ChannelState="5")
    pbx.later(20)
    pbx.dial(trunk, agent, "DialEnd", DialStatus="NOANSWER")
    pbx.emit("Hangup", agent, Cause="19")
    pbx.emit("Hangup", trunk, Cause="16")
    return pbx.events


@pytest.mark.parametrize(
    ("sent", "seen"),
    [("José Núñez", "José Núñez"), ("Алексей Смирнов", "Алексей Смирнов"), ("<unknown>", "")],
)
def test_the_caller_s_name_from_the_pbx_reaches_the_pop_up_and_the_record(sent, seen):
    transitions = _feed(CallTracker(), _inbound(sent))
    (ring,) = [t for t in transitions if isinstance(t, Ringing)]
    assert (ring.direction, ring.caller_number, ring.caller_name) == ("in", "+34600111222", seen)
    (ended,) = [t for t in transitions if isinstance(t, Ended)]
    assert (ended.record.result, ended.record.caller_name) == ("missed", seen)


async def test_a_click_to_call_to_a_colleague_pops_up_with_the_colleague(world, hub, clock):
    """The team page's ☎: the caller's pop-up names the colleague, never "save as a lead"."""
    received: list[CallRang] = []

    async def collect(event: CallRang) -> None:
        received.append(event)

    hub.subscribe("test-rang", collect, CallRang)
    directory = await CallerDirectory.load()
    await directory.extensions.load()
    service = CallsService.for_pbx(hub, clock, directory, AmiSettings())
    service.start()
    pbx = _Pbx()
    agent = pbx.chan("PJSIP/101", CallerIDNum="101", Exten="s")
    pbx.emit("VarSet", agent, Variable="__CENTRALITA_REQ", Value="team-1")
    pbx.emit("Newstate", agent, ChannelState="5")
    try:
        service.expect_click_to_call("team-1", "102")
        for event in pbx.events:
            await service.on_event(event)
        await service.drain()
        await hub.drain()
    finally:
        await service.stop()
    (rang,) = received
    assert (rang.extension, rang.user_id, rang.direction) == ("101", world.luis.id, "internal")
    assert (rang.card.number, rang.card.name, rang.card.is_known) == ("102", "Marta Núñez", False)
