"""What the tracker tells the pop-ups, and how it survives bad input, reconnects and gaps."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from daemon.ami.traces import load_events, load_messages
from daemon.ami.tracker import CallTracker
from daemon.ami.tracker_types import (
    AGENT,
    HELPER,
    OUTSIDE,
    Answered,
    ChannelRoles,
    Ended,
    Ringing,
    StoppedRinging,
    Transferred,
)
from daemon.ami.wire import encode, parse_stream
from tests.daemon.test_tracker_corpora import (
    AMI_DIR,
    CACO_DIR,
    ami_tracker,
    caco_tracker,
    replay,
)


def _popups(transitions) -> list[tuple]:
    out = []
    for t in transitions:
        if isinstance(t, Ringing):
            out.append(("ring", t.extension))
        elif isinstance(t, Answered):
            out.append(("answer", t.extension))
        elif isinstance(t, StoppedRinging):
            out.append(("stop", t.extension, t.answered_by))
    return out


def test_a_ring_group_pops_up_once_per_member_and_closes_the_others_on_answer():
    transitions, records = replay(CACO_DIR / "simple/ab_callgroup.json")
    assert _popups(transitions) == [
        ("ring", "202"),
        ("ring", "203"),
        ("answer", "202"),
        ("stop", "203", "202"),
    ]
    assert len(records) == 1


def test_a_caller_who_hangs_up_while_a_queue_rings_is_one_missed_call():
    transitions, records = replay(CACO_DIR / "queue/queue_a_cancel.json")
    assert _popups(transitions) == [("ring", "202"), ("stop", "202", "")]
    assert [(r.direction, r.result) for r in records] == [("in", "missed")]


def test_a_pickup_closes_the_ringing_phone_s_pop_up_naming_who_picked_up():
    for name in ("xfer_misc/star_pickup.json", "xfer_misc/sip_pickup.json"):
        transitions, records = replay(CACO_DIR / name)
        assert _popups(transitions) == [("ring", "202"), ("stop", "202", "203")], name
        assert [r.agent_extension for r in records] == ["203"]


def test_the_tracker_forgets_finished_calls():
    tracker = caco_tracker()
    for path in sorted(CACO_DIR.glob("*/*.json")):
        replay(path, tracker)
    assert tracker.live_calls == 0 and tracker.snapshot() == []
    assert not tracker._bridges and not tracker._chans and not tracker._pairs


def test_a_blind_transfer_to_a_group_closes_the_colleagues_pop_up():
    transitions, _ = replay(CACO_DIR / "xfer_blind/xfer_blind_group.json")
    transfers = [t for t in transitions if isinstance(t, Transferred)]
    assert [(t.from_ext, t.to_ext, t.kind) for t in transfers] == [("201", "401", "blind")]
    rings = [t for t in transitions if isinstance(t, Ringing)]
    # The pop-ups of the transfer targets show the outside caller, not the transferer.
    assert {t.caller_number for t in rings} == {"+31260010001"}
    assert ("stop", "202", "203") in _popups(transitions)


def test_click_to_call_pop_up_carries_the_request_and_the_originate_action_id():
    transitions, records = replay(AMI_DIR / "click_to_call_answered.ami")
    ring = next(t for t in transitions if isinstance(t, Ringing))
    assert (ring.extension, ring.direction, ring.action_id) == ("101", "out", "c2c-0001")
    # Without the channel variable, the Originate's ActionID still ties the call to it.
    tracker = CallTracker(roles=ami_tracker().roles, request_variables=("SOMETHING_ELSE",))
    _, records = replay(AMI_DIR / "click_to_call_answered.ami", tracker)
    assert records[0].action_id == "click_to_call_answered-2"


def test_malformed_and_unknown_events_are_logged_and_skipped(caplog):
    tracker = ami_tracker()
    garbage = [
        {},
        {"Event": "NoSuchEvent", "Uniqueid": "1.1"},
        {"Event": "Newchannel"},
        {"Event": "Newchannel", "Uniqueid": "9.9", "Linkedid": "9.9"},  # no Channel
        {"Event": "Newstate", "Uniqueid": "9.9", "ChannelState": "x"},
        {"Event": "Hangup", "Uniqueid": "never-seen", "Cause": "16"},
        {"Event": "BridgeEnter", "Uniqueid": "1.2", "Channel": "PJSIP/1-1", "Linkedid": None},
        {"Event": "DialEnd", "DestUniqueid": "nope"},
        {"Event": "AttendedTransfer", "Result": "Success"},
        {"Event": "BlindTransfer", "Result": "Success"},
        {"Event": "OriginateResponse", "Uniqueid": "<unknown>", "Channel": None},
        {"Event": "Newstate", "Uniqueid": "1.3", "Channel": 42, "Linkedid": "1.3"},
        {"Event": "Hangup", "Uniqueid": "1.3", "Cause": "abc", "Timestamp": "not-a-time"},
    ]
    with caplog.at_level(logging.WARNING):
        for event in garbage:
            assert isinstance(tracker.feed(event), list)
    assert any("malformed" in r.getMessage() for r in caplog.records)
    # The tracker still works afterwards.
    _, records = replay(AMI_DIR / "inbound_unknown_answered.ami", tracker)
    assert [(r.direction, r.result, r.agent_extension) for r in records] == [
        ("in", "answered", "101")
    ]


def _coreshowchannels() -> list[dict[str, str]]:
    return [
        m
        for m in load_messages(AMI_DIR / "show_channels.ami")
        if m.get("Event") == "CoreShowChannel"
    ]


def test_resync_adopts_a_call_that_began_while_the_link_was_down_and_closes_it_once():
    tracker = ami_tracker()
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert tracker.resync(_coreshowchannels(), now=now) == []  # bridged, no pop-up to open
    (live,) = tracker.snapshot()
    assert (live.direction, live.from_number, live.to_number) == ("out", "101", "+34911234565")
    assert live.talking == ("101",)
    assert live.started_at == now - timedelta(seconds=5)  # from Duration 00:00:05
    # Still there at the next reconnect: nothing ends, nothing duplicates.
    assert tracker.resync(_coreshowchannels(), now=now + timedelta(seconds=5)) == []
    ended = tracker.resync([], now=now + timedelta(seconds=30))
    (record,) = [t.record for t in ended if isinstance(t, Ended)]
    assert (record.result, record.agent_extension) == ("answered", "101")
    # Bridged since the customer leg exists (Duration 00:00:03 at the first listing).
    assert abs(record.talk_seconds - 33) <= 1
    assert tracker.resync([], now=now + timedelta(seconds=40)) == []
    assert tracker.snapshot() == []
    # A late event of the closed call does not bring it back.
    late = {
        "Event": "Hangup",
        "Channel": "Local/101@agents-00000022;1",
        "Uniqueid": "1795913813.68",
        "Linkedid": "1795913813.68",
        "Cause": "16",
    }
    assert tracker.feed(late) == []
    assert tracker.feed({**late, "Event": "Newstate", "ChannelState": "6"}) == []


def test_a_call_that_ends_during_a_disconnection_is_recorded_once():
    events = load_events(AMI_DIR / "inbound_unknown_answered.ami")
    cut = next(i for i, e in enumerate(events) if e.get("Event") == "BridgeEnter") + 2
    tracker = ami_tracker()
    transitions = []
    for event in events[:cut]:
        transitions.extend(tracker.feed(event))
    assert [t.answered_at is not None for t in tracker.snapshot()] == [True]
    # The link drops; when it is back the call is gone: close it with what we know.
    transitions.extend(tracker.resync([]))
    records = [t.record for t in transitions if isinstance(t, Ended)]
    assert [(r.direction, r.from_number, r.result, r.agent_extension) for r in records] == [
        ("in", "+34600111222", "answered", "101")
    ]
    # Events buffered from before the drop arrive late: no second record.
    for event in events[cut:]:
        assert not [t for t in tracker.feed(event) if isinstance(t, Ended)]


def test_without_timestamps_time_comes_from_the_caller():
    events = [
        {k: v for k, v in e.items() if k != "Timestamp"}
        for e in load_events(AMI_DIR / "inbound_unknown_answered.ami")
    ]
    start = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    tracker = ami_tracker()
    records = []
    # Two seconds of ringing, then ten of talk, as the README says, given by the caller.
    answer_at = next(i for i, e in enumerate(events) if e.get("Event") == "BridgeEnter")
    end_at = next(i for i, e in enumerate(events) if e.get("Event") == "BridgeLeave")
    for i, event in enumerate(events):
        offset = 0 if i < answer_at else 2 if i < end_at else 12
        records += [
            t.record
            for t in tracker.feed(event, now=start + timedelta(seconds=offset))
            if isinstance(t, Ended)
        ]
    (record,) = records
    assert (record.wait_seconds, record.talk_seconds) == (2, 10)
    assert record.started_at == start


def test_channel_roles():
    roles = ChannelRoles(agent_channels=("PJSIP/{extension}", "Local/{extension}@from-queue"))
    assert roles.classify("PJSIP/101-0000002a") == (AGENT, "101")
    assert roles.classify("PJSIP/carrier-0000002b") == (OUTSIDE, "")
    assert roles.classify("Local/102@from-queue-00000003;1") == (AGENT, "102")
    assert roles.classify("Local/102@from-queue-00000003;2") == (HELPER, "")
    assert roles.classify("Local/+3491@from-internal-0000004;1") == (HELPER, "")
    known = ChannelRoles(agent_extensions=lambda: {"101"})
    assert known.classify("PJSIP/101-1")[0] == AGENT
    assert known.classify("PJSIP/105-1")[0] == OUTSIDE  # not a user of ours
    trunks = ChannelRoles(trunk_channels=("Local/*@pstn-*;1",))
    assert trunks.classify("Local/+34911@pstn-0001;1") == (OUTSIDE, "")


def test_raw_trace_parsing_keeps_every_header_and_round_trips():
    text = (AMI_DIR / "show_channels.ami").read_bytes().decode()
    messages = parse_stream(text)
    outputs = [m["Output"] for m in messages if m.get("Message") == "Command output follows"]
    assert max(len(o.split("\n")) for o in outputs) > 3  # one Output: header per line, all kept
    assert parse_stream(b"".join(encode(m) for m in messages).decode()) == messages
    # A CRLF-exact file: the banner is dropped, no frame is lost.
    assert text.startswith("Asterisk Call Manager/11.0.0\r\n")
    assert len(load_messages(AMI_DIR / "show_channels.ami")) == text.count("\r\n\r\n")


def test_every_cacofonisk_file_loads_as_events_with_event_first():
    for path in sorted(CACO_DIR.glob("*/*.json")):
        events = load_events(path)
        assert events and all(next(iter(e)) == "Event" for e in events)
        assert all("content" not in e for e in events)


def test_snapshot_lists_ringing_agents_of_a_queue_call():
    tracker = caco_tracker()
    events = load_events(CACO_DIR / "queue/queue_group.json")
    for event in events:
        transitions = tracker.feed(event)
        if any(isinstance(t, Answered) for t in transitions):
            break
        live = tracker.snapshot()
    assert [c.ringing for c in live] == [("203", "202")]
    assert [c.direction for c in live] == ["in"]


class _Pbx:
    """Writes the events a PJSIP Asterisk sends, for scenarios no recording covers."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0
        self.seq = 0
        self.events: list[dict[str, str]] = []

    def chan(self, device: str, linkedid: str | None = None, **fields: str) -> dict[str, str]:
        self.seq += 1
        uid = f"{self.t:.0f}.{self.seq}"
        chan = {"Channel": f"{device}-{self.seq:08x}", "Uniqueid": uid, "Linkedid": linkedid or uid}
        self.emit("Newchannel", chan, ChannelState="0", **fields)
        return chan

    def local_pair(self, base: str, linkedid: str, **fields: str) -> tuple[dict, dict]:
        self.seq += 1
        name = f"{base}-{self.seq:08x}"
        halves = []
        for half in ("1", "2"):
            chan = {"Channel": f"{name};{half}", "Uniqueid": f"{self.t:.0f}.{self.seq}{half}"}
            chan["Linkedid"] = linkedid
            self.emit("Newchannel", chan, ChannelState="0" if half == "1" else "4", **fields)
            halves.append(chan)
        return halves[0], halves[1]

    def emit(self, name: str, chan: dict[str, str] | None = None, **fields: str) -> None:
        event = {"Event": name, "Timestamp": f"{self.t:.6f}"}
        event.update(chan or {})
        event.update(fields)
        self.events.append(event)

    def dial(self, src: dict[str, str], dest: dict[str, str], name: str, **fields: str) -> None:
        self.emit(name, src, **{f"Dest{k}": v for k, v in dest.items()}, **fields)

    def later(self, seconds: float) -> None:
        self.t += seconds


def test_click_to_call_to_a_colleague_is_internal_and_keeps_its_request_id():
    pbx = _Pbx()
    agent = pbx.chan("PJSIP/101", CallerIDNum="101", Exten="s")
    pbx.emit("VarSet", agent, Variable="__CENTRALITA_REQ", Value="req-42")
    pbx.emit("Newstate", agent, ChannelState="5")
    pbx.later(2)
    pbx.emit("Newstate", agent, ChannelState="6")
    colleague = pbx.chan("PJSIP/102", agent["Linkedid"], CallerIDNum="102", Exten="102")
    pbx.dial(agent, colleague, "DialBegin")
    pbx.emit("Newstate", colleague, ChannelState="5")
    pbx.later(3)
    pbx.emit("Newstate", colleague, ChannelState="6")
    pbx.dial(agent, colleague, "DialEnd", DialStatus="ANSWER")
    for chan in (colleague, agent):
        pbx.emit("BridgeEnter", chan, BridgeUniqueid="b1")
    pbx.later(20)
    for chan in (colleague, agent):
        pbx.emit("BridgeLeave", chan, BridgeUniqueid="b1")
        pbx.emit("Hangup", chan, Cause="16")
    tracker = CallTracker()  # default roles: PJSIP/{extension}
    transitions = [t for e in pbx.events for t in tracker.feed(e)]
    rings = [(t.extension, t.direction, t.action_id) for t in transitions if isinstance(t, Ringing)]
    assert rings == [("101", "out", "req-42"), ("102", "internal", "req-42")]
    (record,) = [t.record for t in transitions if isinstance(t, Ended)]
    assert (record.direction, record.from_number, record.to_number) == ("internal", "101", "102")
    assert (record.result, record.agent_extension, record.action_id) == (
        "answered",
        "102",
        "req-42",
    )
    assert (record.wait_seconds, record.talk_seconds) == (3, 20)


def test_a_pjsip_ring_group_behind_local_channels_is_one_call_with_one_pop_up_each():
    pbx = _Pbx()
    # This trunk starts in `s`: the DID shows once its dialplan runs.
    trunk = pbx.chan("PJSIP/carrier", CallerIDNum="+34911234567", Exten="s")
    pbx.emit("Newstate", trunk, ChannelState="4", Exten="900100200")
    lid = trunk["Linkedid"]
    phones = {}
    for ext in ("101", "102"):
        half1, half2 = pbx.local_pair(f"Local/{ext}@from-queue", lid, Exten=ext)
        pbx.dial(trunk, half1, "DialBegin")
        phone = pbx.chan(f"PJSIP/{ext}", lid, CallerIDNum="+34911234567", Exten=ext)
        pbx.dial(half2, phone, "DialBegin")
        pbx.emit("Newstate", phone, ChannelState="5")
        phones[ext] = (half1, half2, phone)
    pbx.later(4)
    half1, half2, phone = phones["102"]
    pbx.emit("Newstate", phone, ChannelState="6")
    pbx.dial(half2, phone, "DialEnd", DialStatus="ANSWER")
    other1, other2, other_phone = phones["101"]
    pbx.dial(other2, other_phone, "DialEnd", DialStatus="CANCEL")
    pbx.emit("Hangup", other_phone, Cause="26")
    pbx.emit("Hangup", other2, Cause="26")
    pbx.emit("Hangup", other1, Cause="26")
    pbx.emit("BridgeEnter", trunk, BridgeUniqueid="b1")
    pbx.emit("BridgeEnter", half1, BridgeUniqueid="b1")
    pbx.emit("BridgeEnter", half2, BridgeUniqueid="b2")
    pbx.emit("BridgeEnter", phone, BridgeUniqueid="b2")
    pbx.later(30)
    for chan in (trunk, half1, half2, phone):
        pbx.emit("Hangup", chan, Cause="16")
    tracker = CallTracker(
        agent_channel="PJSIP/{extension}", agent_extensions=lambda: {"101", "102"}
    )
    transitions = [t for e in pbx.events for t in tracker.feed(e)]
    assert _popups(transitions) == [
        ("ring", "101"),
        ("ring", "102"),
        ("answer", "102"),
        ("stop", "101", "102"),
    ]
    (record,) = [t.record for t in transitions if isinstance(t, Ended)]
    assert (record.direction, record.from_number, record.did) == ("in", "+34911234567", "900100200")
    assert (record.agent_extension, record.result) == ("102", "answered")
    assert (record.wait_seconds, record.talk_seconds) == (4, 30)
    assert record.rang_extensions == ["101", "102"]


def test_an_agent_alone_with_the_pbx_is_not_a_call():
    pbx = _Pbx()
    agent = pbx.chan("PJSIP/101", CallerIDNum="101", Exten="*97")  # voicemail
    pbx.emit("Newstate", agent, ChannelState="4")
    pbx.emit("Newstate", agent, ChannelState="6")
    pbx.later(30)
    pbx.emit("Hangup", agent, Cause="16")
    tracker = CallTracker()
    assert [t for e in pbx.events for t in tracker.feed(e)] == []
    assert tracker.live_calls == 0


WAV = "/srv/recordings/2026/11/29/in-1795913622.26.wav"


def test_the_recording_file_comes_from_mixmonitor_or_a_dialplan_user_event():
    _, (record,) = replay(AMI_DIR / "mixmonitor_userevent.ami")
    assert record.recording_path == "/var/spool/asterisk/monitor/crm-rec-0001.wav"
    # A dialplan that records with Monitor() or elsewhere can say so with a UserEvent.
    events = load_events(AMI_DIR / "inbound_unknown_answered.ami")
    bridge = next(e for e in events if e.get("Event") == "BridgeEnter")
    note = {
        "Event": "UserEvent",
        "UserEvent": "CrmRecording",
        "Channel": bridge["Channel"],
        "Uniqueid": bridge["Uniqueid"],
        "Linkedid": bridge["Linkedid"],
        "Recording": WAV,
    }
    at = events.index(bridge) + 1
    tracker = ami_tracker()
    records = [
        t.record
        for e in [*events[:at], note, *events[at:]]
        for t in tracker.feed(e)
        if isinstance(t, Ended)
    ]
    assert [r.recording_path for r in records] == [WAV]
