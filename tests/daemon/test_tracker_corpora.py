"""Every recording of both trace corpora, replayed through the tracker, gives the calls its
README describes.

The expectations are written by hand from each corpus README ("what a CRM should
conclude"), never computed by the tracker. Conventions of our CallRecord:

* `from`/`to`: on inbound calls the caller's number and the DID; on outbound calls the
  agent's extension and the outside number dialled; on internal calls the caller's
  extension and the number dialled (a ring group is its number, 401).
* `agent`: who answered (inbound, internal), or who made the call (outbound).
* `xfer`: (from extension, to whom it ended up with, kind) per transfer.
* `talk`/`wait` only for the raw traces, which have Timestamps (within one second).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.ami.traces import load_events
from daemon.ami.tracker import CallTracker
from daemon.ami.tracker_types import Answered, ChannelRoles, Ended, Ringing, StoppedRinging
from models.telephony.call_record import CallRecord

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
AMI_DIR = FIXTURES / "ami-traces"
CACO_DIR = FIXTURES / "cacofonisk-traces"

# ami-traces README, "how to read the channel names": the ;1 half of Local/<ext>@agents is
# the agent's phone leg; pstn-carrier ;1 and from-pstn ;2 are the trunk legs.
AMI_ROLES = dict(
    agent_channels=("Local/{extension}@agents",),
    trunk_channels=("Local/*@pstn-carrier-*;1", "Local/*@from-pstn-*;2"),
)

# cacofonisk README glossary: phone accounts and their extensions. 150010004 has no number
# in the README (it never rings); 260010001 is customer 26001's extension 201.
CACO_DEVICES = {
    "SIP/150010001": "201",
    "SIP/150010002": "202",
    "SIP/150010003": "203",
    "SIP/150010004": "204",
    "SIP/260010001": "201",
    "SIP/100060001": "201",
    "SIP/100060002": "202",
    "SIP/150010063": "2401",
}


def ami_tracker(**kwargs) -> CallTracker:
    return CallTracker(
        roles=ChannelRoles(**AMI_ROLES), request_variables=("CRM_CALL_ID",), **kwargs
    )


def caco_tracker(**kwargs) -> CallTracker:
    return CallTracker(roles=ChannelRoles(agent_channels=(), devices=CACO_DEVICES), **kwargs)


def tracker_for(path: Path) -> CallTracker:
    return ami_tracker() if path.suffix == ".ami" else caco_tracker()


def trace_name(path: Path) -> str:
    return path.name if path.suffix == ".ami" else f"{path.parent.name}/{path.name}"


def all_traces() -> list[Path]:
    return sorted(AMI_DIR.glob("*.ami")) + sorted(CACO_DIR.glob("*/*.json"))


def call(direction, frm, to, result, agent="", **extra):
    return dict(direction=direction, frm=frm, to=to, result=result, agent=agent, **extra)


OUT = "out"
IN = "in"
INT = "internal"
REC_0001 = "crm-rec-0001.wav"

# fmt: off
EXPECTED: dict[str, list[dict]] = {
    # ---- ami-traces (Asterisk 22, Local channels) ----
    "action_without_login.ami": [],
    "login_failed.ami": [],
    "show_channels.ami": [],  # Events: off, nothing to track
    "click_to_call_answered.ami": [
        call(OUT, "101", "+34911234567", "answered", "101", wait=3, talk=8.5, cause=16,
             action="c2c-0001", rang=["101"]),
    ],
    "click_to_call_answered_with_cel.ami": [
        call(OUT, "101", "+34911234567", "answered", "101", wait=3, talk=8.5, cause=16),
    ],
    "click_to_call_inherited_var.ami": [
        call(OUT, "101", "+34911234567", "answered", "101", wait=3, talk=8.5,
             action="c2c-0009"),
    ],
    "click_to_call_hangup_by_crm.ami": [
        call(OUT, "101", "+34911234565", "answered", "101", wait=2, talk=4, cause=16,
             action="c2c-0005"),
    ],
    "originate_noanswer.ami": [
        call(OUT, "101", "+34911234568", "no_answer", "101", wait=20, talk=0,
             action="c2c-0002"),
    ],
    "originate_busy.ami": [
        call(OUT, "101", "+34911234569", "busy", "101", talk=0, action="c2c-0003"),
    ],
    "originate_congestion.ami": [
        call(OUT, "101", "+34911234566", "failed", "101", talk=0, action="c2c-0006"),
    ],
    "originate_number_unallocated.ami": [
        call(OUT, "101", "0034911234560", "failed", "101", talk=0, cause=1,
             action="c2c-0007"),
    ],
    "originate_agent_noanswer.ami": [
        # The click-to-call failed at the agent leg: 102 rang 15 s, the customer was never dialled.
        call(OUT, "102", "+34911234567", "failed", "102", wait=15, talk=0, cause=19,
             action="c2c-0004", rang=["102"]),
    ],
    "inbound_unknown_answered.ami": [
        call(IN, "+34600111222", "900100200", "answered", "101", did="900100200", wait=2,
             talk=10, cause=16, rang=["101"]),
    ],
    "inbound_missed.ami": [
        call(IN, "+34600111222", "900100201", "missed", did="900100201", wait=20, talk=0,
             rang=["102"]),
    ],
    "inbound_abandoned.ami": [
        call(IN, "+34600111222", "900100201", "missed", did="900100201", wait=8, talk=0,
             rang=["102"]),
    ],
    "inbound_agent_busy.ami": [
        # 103 is busy: it never rings.
        call(IN, "+34600111222", "900100202", "missed", did="900100202", talk=0, rang=[]),
    ],
    "inbound_queue_answered.ami": [
        call(IN, "+34600111333", "900100300", "answered", "101", did="900100300", wait=2,
             talk=10, rang=["101"]),
    ],
    "transfer_redirect.ami": [
        # 3 s with 101, then 6 s with 104 (104 rang 1 s in between).
        call(OUT, "101", "+34911234565", "answered", "101", talk=9,
             xfer=[("101", "104", "blind")], rang=["101", "104"], action="xfer-redirect"),
    ],
    "transfer_blind.ami": [
        call(OUT, "101", "+34911234565", "answered", "101", talk=9,
             xfer=[("101", "104", "blind")], rang=["101", "104"], action="xfer-blind"),
    ],
    "transfer_attended.ami": [
        # 3 s with 101, 2 s of consultation once 104 answered, 5.5 s with 104.
        call(OUT, "101", "+34911234565", "answered", "101", talk=10.5,
             xfer=[("101", "104", "attended")], rang=["101", "104"], action="xfer-attended"),
    ],
    "mixmonitor_userevent.ami": [
        call(OUT, "101", "+34911234567", "answered", "101", action="rec-0001",
             recording=REC_0001),
    ],
    # ---- cacofonisk (VoIPGRID, Asterisk 13+, no timestamps) ----
    "mobile/acceptance_group_pickup.json": [
        call(IN, "+31150010003", "+31260010001", "answered", did="+31260010001", rang=[]),
    ],
    "mobile/acceptance_group_reject.json": [
        call(IN, "+31150010003", "+31260010001", "answered", did="+31260010001"),
    ],
    "mobile/acceptance_reject.json": [
        # Picked up technically, never accepted: not answered.
        call(IN, "+31150010003", "+31260010001", "missed", did="+31260010001"),
    ],
    "mobile/acceptance_simple.json": [
        call(IN, "+31150010001", "+31150010004", "answered", did="+31150010004"),
    ],
    "mobile/acceptance_timeout.json": [
        call(IN, "+31150010003", "+31260010001", "missed", did="+31260010001"),
    ],
    "mobile/simple_mobile.json": [
        call(IN, "+31150010001", "+31150010004", "answered", did="+31150010004"),
    ],
    "originate/cmn-world-world-unaccepted.json": [],
    "originate/cmn-world-world.json": [
        call(OUT, "+31260010001", "+31150010001", "answered"),
    ],
    "originate/ctd-account-account-xfer-attn-abbcac.json": [
        call(INT, "201", "202", "answered", "202", xfer=[("202", "203", "attended")]),
        # 202's consultation call to 203 is a call too: 203 went on with 201.
        call(INT, "202", "203", "answered", "203", xfer=[("202", "201", "attended")]),
    ],
    "originate/ctd-account-account.json": [
        call(INT, "201", "202", "answered", "202", rang=["201", "202"]),
    ],
    "originate/ctd-account-world-deny-a.json": [
        # The PBX's click-to-dial rang 201, who declined: a pop-up opened, so a call is listed
        # (the number it would have dialled never appears in the events).
        call(INT, "201", "", "failed", rang=["201"]),
    ],
    "originate/ctd-account-world-deny-b.json": [
        call(OUT, "201", "+31260010001", "busy", "201", rang=["201"]),
    ],
    "originate/ctd-account-world-no-ringing.json": [
        call(OUT, "2401", "+31260010001", "answered", "2401"),
    ],
    "originate/ctd-account-world-xfer-attn-abacbc.json": [
        call(OUT, "201", "+31260010001", "answered", "201",
             xfer=[("201", "203", "attended")]),
        call(INT, "201", "203", "answered", "203", xfer=[("201", "+31260010001", "attended")]),
    ],
    "originate/ctd-account-world.json": [
        call(OUT, "201", "+31260010001", "answered", "201", xfer=[]),
    ],
    "queue/queue_a_cancel.json": [
        call(IN, "+31150010001", "+31150010004", "missed", did="+31150010004", rang=["202"]),
    ],
    "queue/queue_attn_xfer.json": [
        call(IN, "+31260010001", "+31150010001", "answered", "201", did="+31150010001",
             xfer=[("201", "202", "attended")]),
        call(INT, "201", "202", "answered", "202", xfer=[("201", "+31260010001", "attended")],
             rang=["202"]),
    ],
    "queue/queue_blind_xfer.json": [
        call(IN, "+31260010001", "+31150010001", "answered", "201",
             xfer=[("201", "202", "blind")], rang=["201", "202"]),
    ],
    "queue/queue_group.json": [
        call(IN, "+31150010001", "+31150010004", "answered", "202", rang=["203", "202"]),
    ],
    "queue/queue_simple.json": [
        # 203 fails at once and never rings: not reported.
        call(IN, "+31150010001", "+31150010004", "answered", "202", rang=["202"]),
    ],
    "simple/a_created_no_answer.json": [
        call(IN, "+31150010001", "+31150010004", "missed", rang=[]),
    ],
    "simple/ab_a_cancel.json": [
        call(INT, "201", "202", "missed", rang=["202"]),
    ],
    "simple/ab_callgroup.json": [
        call(INT, "201", "401", "answered", "202", rang=["202", "203"]),
    ],
    "simple/ab_callgroup_no_answer.json": [
        call(INT, "201", "401", "no_answer", rang=["202", "203"]),
    ],
    "simple/ab_dnd.json": [
        call(INT, "201", "202", "busy", rang=[]),
    ],
    "simple/ab_reject.json": [
        call(INT, "201", "202", "busy", rang=["202"]),
    ],
    "simple/ab_success_a_hangup.json": [
        call(INT, "201", "202", "answered", "202", rang=["202"]),
    ],
    "simple/ab_success_b_hangup.json": [
        call(INT, "201", "202", "answered", "202", rang=["202"]),
    ],
    "simple/ab_success_o3.json": [
        call(INT, "201", "202", "answered", "202", rang=["202"]),
    ],
    "simple/ab_success_twoclients.json": [
        call(IN, "+31260010001", "+31150010001", "answered", "201", did="+31150010001"),
        call(OUT, "201", "+31150010001", "answered", "201"),
    ],
    "var_set/user_events.json": [
        call(IN, "+31260010001", "+31150010001", "answered", "201", did="+31150010001"),
        call(OUT, "201", "+31150010001", "answered", "201"),
    ],
    "xfer_attended/xfer_abacbc.json": [
        call(INT, "201", "202", "answered", "202", xfer=[("201", "203", "attended")]),
        call(INT, "201", "203", "answered", "203", xfer=[("201", "202", "attended")]),
    ],
    "xfer_attended/xfer_abbcac.json": [
        call(INT, "201", "202", "answered", "202", xfer=[("202", "203", "attended")]),
        call(INT, "202", "203", "answered", "203", xfer=[("202", "201", "attended")]),
    ],
    "xfer_attended/xfer_abbcac_anon.json": [
        call(IN, "+31260xxxxxx", "+31150010001", "answered", "201",
             xfer=[("201", "203", "attended")]),
        call(INT, "201", "203", "answered", "203", xfer=[("201", "+31260xxxxxx", "attended")]),
    ],
    "xfer_attended/xfer_abcbac.json": [
        # 202 called 201, 203 called 201; 201 joined them: two calls, each rang and was
        # answered by 201, and each went on with the other caller.
        call(INT, "202", "201", "answered", "201", xfer=[("201", "203", "attended")],
             rang=["201"]),
        call(INT, "203", "201", "answered", "201", xfer=[("201", "202", "attended")],
             rang=["201"]),
    ],
    "xfer_blind/xfer_blind_a_no_answer.json": [
        call(INT, "201", "202", "answered", "202", xfer=[], rang=["202"]),
    ],
    "xfer_blind/xfer_blind_abacbc.json": [
        call(INT, "201", "202", "answered", "202", xfer=[("201", "203", "blind")],
             rang=["202", "203"]),
    ],
    "xfer_blind/xfer_blind_abbcac.json": [
        call(INT, "201", "202", "answered", "202", xfer=[("202", "203", "blind")],
             rang=["202", "203"]),
    ],
    "xfer_blind/xfer_blind_b_no_answer.json": [
        call(INT, "201", "202", "answered", "202", xfer=[], rang=["202"]),
    ],
    "xfer_blind/xfer_blind_group.json": [
        call(IN, "+31260010001", "+31150010001", "answered", "201",
             xfer=[("201", "203", "blind")], rang=["201", "203", "202"]),
    ],
    "xfer_blind/xfer_blind_group_no_answer.json": [
        call(IN, "+31260010001", "+31150010001", "answered", "201", xfer=[], rang=["201"]),
    ],
    "xfer_blind/xfer_blind_reject.json": [
        # The transfer rang 203, who rejected it.
        call(INT, "201", "202", "answered", "202", xfer=[("202", "203", "blind")],
             rang=["202", "203"]),
    ],
    "xfer_blonde/xfer_blonde_abacbc.json": [
        call(INT, "201", "202", "answered", "202", xfer=[("201", "203", "blonde")]),
        # 201's call to 203 was handed to 202 while it rang: unanswered as a call of its own.
        call(INT, "201", "203", "no_answer", xfer=[("201", "202", "blonde")], rang=["203"]),
    ],
    "xfer_blonde/xfer_blonde_abbcac.json": [
        call(IN, "+31260010001", "+31150010001", "answered", "201",
             xfer=[("201", "202", "blonde")]),
        call(INT, "201", "202", "no_answer", xfer=[("201", "+31260010001", "blonde")],
             rang=["202"]),
    ],
    "xfer_blonde/xfer_blonde_group_a.json": [
        # 201 called out, then handed the outside party to group 401, where 202 answered.
        call(OUT, "201", "+31260010001", "answered", "201", xfer=[("201", "202", "blonde")]),
        # 201's call to the group, handed over while it rang (the group's other phone was
        # cancelled: missed, as a colleague's unanswered call).
        call(INT, "201", "401", "missed", xfer=[("201", "+31260010001", "blonde")],
             rang=["202", "203"]),
    ],
    "xfer_blonde/xfer_blonde_group_b.json": [
        call(IN, "+31260010001", "+31150010001", "answered", "201",
             xfer=[("201", "202", "blonde")]),
        call(INT, "201", "401", "missed", xfer=[("201", "+31260010001", "blonde")],
             rang=["202", "203"]),
    ],
    "xfer_blonde/xfer_blonde_reject.json": [
        call(IN, "+31260010001", "+31150010001", "answered", "201",
             xfer=[("201", "202", "blonde")]),
        # 202 rejected the call 201 handed over.
        call(INT, "201", "202", "busy", xfer=[("201", "+31260010001", "blonde")],
             rang=["202"]),
    ],
    "xfer_misc/call_forwarding.json": [
        # 201 forwards at once and never rings.
        call(IN, "+31260010001", "+31150010001", "answered", "202", rang=["202"]),
    ],
    "xfer_misc/call_forwarding_to_group.json": [
        call(IN, "+31260010001", "+31150010001", "answered", "203", rang=["202", "203"]),
    ],
    "xfer_misc/sip_pickup.json": [
        # Answered by a different phone (203) than the one dialled (202).
        call(INT, "201", "202", "answered", "203", rang=["202"]),
    ],
    "xfer_misc/star_pickup.json": [
        call(INT, "201", "202", "answered", "203", rang=["202"]),
    ],
}
# fmt: on


# ---- replaying every recording ---------------------------------------------------------


def replay(path: Path, tracker: CallTracker | None = None) -> tuple[list, list[CallRecord]]:
    tracker = tracker or tracker_for(path)
    transitions = []
    for event in load_events(path):
        transitions.extend(tracker.feed(event))
    records = [t.record for t in transitions if isinstance(t, Ended)]
    return transitions, records


def _sort_key(rec_or_exp) -> tuple:
    if isinstance(rec_or_exp, CallRecord):
        return (rec_or_exp.direction, rec_or_exp.from_number, rec_or_exp.to_number)
    return (rec_or_exp["direction"], rec_or_exp["frm"], rec_or_exp["to"])


@pytest.mark.parametrize("path", all_traces(), ids=trace_name)
def test_every_recording_gives_the_calls_its_readme_describes(path: Path):
    name = trace_name(path)
    assert name in EXPECTED, f"{name} has no expectations: write them from its README"
    transitions, records = replay(path)
    expected = sorted(EXPECTED[name], key=_sort_key)
    records = sorted(records, key=_sort_key)
    assert len(records) == len(expected), [(r.direction, r.from_number, r.result) for r in records]
    for rec, exp in zip(records, expected, strict=True):
        assert rec.direction == exp["direction"]
        assert rec.from_number == exp["frm"]
        assert rec.to_number == exp["to"]
        assert rec.result == exp["result"]
        assert rec.agent_extension == exp["agent"]
        if "did" in exp:
            assert rec.did == exp["did"]
        elif rec.direction != "in":
            assert rec.did == ""
        if "rang" in exp:
            assert rec.rang_extensions == exp["rang"]
        assert [(t["from"], t["to"], t["kind"]) for t in rec.transfers] == exp.get("xfer", [])
        if "wait" in exp:
            assert abs(rec.wait_seconds - exp["wait"]) <= 1, rec.wait_seconds
        if "talk" in exp:
            assert abs(rec.talk_seconds - exp["talk"]) <= 1, rec.talk_seconds
        if "cause" in exp:
            assert rec.hangup_cause == exp["cause"]
        if "action" in exp:
            assert rec.action_id == exp["action"]
        if "recording" in exp:
            assert rec.recording_path.startswith("/")
            assert rec.recording_path.endswith("/monitor/" + exp["recording"])
        else:
            assert rec.recording_path == ""
        assert rec.answered_at is not None if rec.result == "answered" else rec.talk_seconds == 0
    # One Ended per call, and every pop-up that opened was closed or answered.
    linkedids = [r.linkedid for r in records]
    assert len(linkedids) == len(set(linkedids))
    opened = {(t.linkedid, t.extension) for t in transitions if isinstance(t, Ringing)}
    closed = {
        (t.linkedid, t.extension) for t in transitions if isinstance(t, Answered | StoppedRinging)
    }
    assert opened <= closed


@pytest.mark.parametrize("path", all_traces(), ids=trace_name)
def test_joining_a_recording_mid_stream_never_raises_nor_records_twice(path: Path, caplog):
    """As cacofonisk's test_partial: drop the first n events, the tracker must cope."""
    events = load_events(path)
    for start in range(1, len(events), max(1, len(events) // 12)):
        tracker = tracker_for(path)
        records = []
        for event in events[start:]:
            records.extend(t.record for t in tracker.feed(event) if isinstance(t, Ended))
        # Without the start of a merge the consultation may stand as a call of its own,
        # but no Linkedid is ever recorded twice.
        linkedids = {e["Linkedid"] for e in events[start:] if e.get("Linkedid")}
        assert len({r.linkedid for r in records}) == len(records) <= len(linkedids)
    assert not [r for r in caplog.records if "malformed" in r.getMessage()]
