"""Every recording, served over TCP by the PBX simulator, through the real AMI link into
the tracker: the same calls as when the tracker reads the files directly.

The recorded events go on the wire byte for byte (raw traces) or as Asterisk writes them
(cacofonisk JSON); a final UserEvent marks the end of the replay.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.ami.link import AmiLink
from daemon.ami.traces import load_events
from daemon.ami.tracker_types import Ended
from daemon.ami.wire import encode
from daemon.pbxsim import PbxSimulator
from daemon.pbxsim.replay import Trace
from tests.daemon.pbxsim_fixtures import ami_settings, eventually, sim  # noqa: F401
from tests.daemon.test_tracker_corpora import (
    EXPECTED,
    all_traces,
    replay,
    trace_name,
    tracker_for,
)

START_MARK = {"Event": "UserEvent", "UserEvent": "ReplayStart"}
END_MARK = {"Event": "UserEvent", "UserEvent": "ReplayDone"}


def wire_bytes(path: Path) -> bytes:
    """The events of a trace as they would arrive from Asterisk."""
    if path.suffix == ".ami":
        frames = path.read_bytes().split(b"\r\n\r\n")
        return b"".join(f + b"\r\n\r\n" for f in frames if f.startswith(b"Event: "))
    return b"".join(encode(event) for event in load_events(path))


@pytest.mark.parametrize("path", all_traces(), ids=trace_name)
async def test_a_recording_replayed_through_the_link_gives_the_same_calls(path, sim):  # noqa: F811
    tracker = tracker_for(path)
    records = []
    events: list[dict[str, str]] = []
    done = []

    async def on_event(event: dict[str, str]) -> None:
        if event.get("UserEvent") == "ReplayStart":
            events.clear()  # what the simulator said on its own after login is not ours
            return
        if event.get("UserEvent") == "ReplayDone":
            done.append(True)
            return
        events.append(event)
        records.extend(t.record for t in tracker.feed(event) if isinstance(t, Ended))

    async def on_resync(channels: list[dict[str, str]]) -> None:
        records.extend(t.record for t in tracker.resync(channels) if isinstance(t, Ended))

    link = AmiLink(ami_settings(sim), on_event, on_resync)
    await link.start()
    try:
        await link.wait_ready(10)
        sim.send_raw(encode(START_MARK) + wire_bytes(path) + encode(END_MARK))
        await eventually(lambda: done, within=20)
    finally:
        await link.stop()

    assert len(events) == len(load_events(path))  # nothing lost, nothing split
    _, direct = replay(path)
    summary = [
        (
            r.direction,
            r.from_number,
            r.to_number,
            r.result,
            r.agent_extension,
            r.transfers,
            r.wait_seconds,
            r.talk_seconds,
            r.rang_extensions,
        )
        for r in records
    ]
    expected = [
        (
            r.direction,
            r.from_number,
            r.to_number,
            r.result,
            r.agent_extension,
            r.transfers,
            r.wait_seconds,
            r.talk_seconds,
            r.rang_extensions,
        )
        for r in direct
    ]
    assert summary == expected
    assert len(records) == len(EXPECTED[trace_name(path)])


_NOT_REPLAYED = {"FullyBooted", "SuccessfulAuth"}  # the simulator's own login sends these


@pytest.mark.parametrize("path", all_traces(), ids=trace_name)
async def test_the_simulators_replay_mode_feeds_the_tracker_the_same_calls(path):
    """What `centralita pbx-sim --replay TRACE` serves, read by the real link."""
    expected_events = [e for e in load_events(path) if e.get("Event") not in _NOT_REPLAYED]
    tracker = tracker_for(path)
    records = []
    seen: list[dict[str, str]] = []

    async def on_event(event: dict[str, str]) -> None:
        if event.get("Event") not in _NOT_REPLAYED:
            seen.append(event)
        records.extend(t.record for t in tracker.feed(event) if isinstance(t, Ended))

    async def on_resync(channels: list[dict[str, str]]) -> None:
        records.extend(t.record for t in tracker.resync(channels) if isinstance(t, Ended))

    async with PbxSimulator(replay=Trace.load(path)) as simulator:
        link = AmiLink(ami_settings(simulator), on_event, on_resync)
        await link.start()
        try:
            await link.wait_ready(10)
            await eventually(lambda: len(seen) >= len(expected_events), within=20)
        finally:
            await link.stop()

    assert seen == expected_events
    _, direct = replay(path)
    assert [(r.linkedid, r.direction, r.result, r.agent_extension) for r in records] == [
        (r.linkedid, r.direction, r.result, r.agent_extension) for r in direct
    ]
