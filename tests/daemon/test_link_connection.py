"""The AMI link over real TCP against the PBX simulator: login, events, refusals, reconnects."""

from __future__ import annotations

import asyncio
import logging

import pytest

from models.core.errors import TelephonyError
from tests.daemon import pbxsim_fixtures as fx
from tests.daemon.pbxsim_fixtures import eventually

sim = fx.sim
make_link = fx.make_link


async def test_link_logs_in_and_hands_over_every_event_as_a_dict(sim, make_link):
    link, rec, _ = await make_link()
    assert sim.logins == 1 and link.is_ready
    assert rec.resyncs == [[]]  # the resync after login: nothing was live

    call = await sim.inbound_call(
        "+34911234567", "900100200", ["101", "102"], answer_by="101", answer_after=2, talk=30
    )
    await call.done()
    await eventually(lambda: len(rec.named("Hangup")) == 3)

    assert all(isinstance(v, str) for e in rec.events for v in e.values())
    first = rec.named("Newchannel")[0]
    assert first["CallerIDNum"] == "+34911234567" and first["Exten"] == "900100200"
    ends = {e["DestChannel"].split("-")[0]: e["DialStatus"] for e in rec.named("DialEnd")}
    assert ends == {"PJSIP/101": "ANSWER", "PJSIP/102": "CANCEL"}
    assert {e["Linkedid"] for e in rec.events if "Linkedid" in e} == {first["Uniqueid"]}


async def test_wrong_secret_is_reported_once_and_retried_slowly(sim, make_link, caplog):
    caplog.set_level(logging.DEBUG, logger="daemon.ami.link")
    link, _, sleep = await make_link(wait=False, secret="wrong-secret", reconnect_max_delay=30)
    await eventually(lambda: len(sim.received("Login")) >= 4)

    assert not link.is_ready
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "refused" in errors[0].getMessage() and "Authentication failed" in errors[0].getMessage()
    assert "wrong-secret" not in caplog.text  # the secret never reaches the logs
    assert sleep.delays[:3] == [30, 30, 30]  # slow retries, never a tight loop
    with pytest.raises(TelephonyError, match="not connected: Authentication failed"):
        await link.send_action({"Action": "Ping"})


async def test_unreachable_pbx_is_retried_with_exponential_backoff(sim, make_link):
    port = sim.port
    await sim.stop()
    link, _, sleep = await make_link(wait=False, port=port, reconnect_max_delay=8)
    await eventually(lambda: len(sleep.delays) >= 6)
    assert sleep.delays[:6] == [1, 2, 4, 8, 8, 8]

    await sim.start()  # the PBX comes back on the same port
    await link.wait_ready(10)
    assert sim.logins == 1


async def test_restarted_pbx_is_reconnected_and_live_calls_resynced(sim, make_link):
    link, rec, _ = await make_link()
    await sim.inbound_call("+34911234567", "900100200", ["101"], answer_by="101", talk=3600)

    await sim.stop()  # the PBX goes away while the call goes on ...
    assert not link.is_ready
    # ... and a second call starts while the link is down.
    await sim.outbound_call("102", "+34911234568")
    await sim.start()
    await eventually(lambda: sim.logins == 2 and link.is_ready)

    assert len(rec.resyncs) == 2
    snapshot = rec.resyncs[-1]
    assert {c["Channel"].split("-")[0] for c in snapshot} == {
        "PJSIP/101",
        "PJSIP/102",
        "PJSIP/carrier",
    }
    assert len({c["Linkedid"] for c in snapshot}) == 2
    assert all(c["Event"] == "CoreShowChannel" for c in snapshot)


async def test_malformed_message_and_failing_consumer_are_skipped(sim, make_link, caplog):
    link, rec, _ = await make_link()
    rec.fail_on = "UserEvent"
    sim.send_raw(b"this is not AMI at all\r\n\r\n")
    sim.send_raw(b"Event: UserEvent\r\nUserEvent: Boom\r\n\r\n")
    sim.send_raw(b"Event: TotallyUnknownEvent\r\nFoo: bar\r\n\r\n")
    await sim.outbound_call("101", "+34911234567")
    await eventually(lambda: rec.named("Newchannel"))

    assert link.is_ready and sim.logins == 1
    assert rec.named("TotallyUnknownEvent") == [{"Event": "TotallyUnknownEvent", "Foo": "bar"}]
    assert link.events_failed == 1
    assert "malformed" in caplog.text and "consumer bug" in caplog.text


async def test_every_request_has_a_timeout(sim, make_link):
    link, _, _ = await make_link(action_timeout=0.3)
    sim.answer_actions = False
    with pytest.raises(TelephonyError, match="did not answer Status within 0.3 s"):
        await link.send_action({"Action": "Status"})


async def test_stop_cancels_its_tasks(sim, make_link):
    link, _, _ = await make_link()
    tasks = list(link._tasks)
    assert {t.get_name() for t in tasks} == {"ami-link", "ami-events"}
    await link.stop()
    assert all(t.done() for t in tasks) and not link.is_ready


async def test_a_refused_resync_keeps_the_tracked_calls(sim, make_link, caplog, monkeypatch):
    def refuse(session, action):
        sim._reply(session, action, [("Response", "Error"), ("Message", "Permission denied")])

    monkeypatch.setattr(sim, "_action_coreshowchannels", refuse)
    link, rec, _ = await make_link()
    assert link.is_ready
    assert rec.resyncs == []  # not "no live calls": nothing is resynced at all
    assert "resync impossible (CoreShowChannels: Permission denied)" in caplog.text


async def test_an_asterisk_13_command_answer_reaches_the_caller_whole(sim, make_link):
    # Asterisk 13 and older: raw output lines (one blank) up to --END COMMAND--, then an event.
    link, rec, _ = await make_link()
    sim.answer_actions = False
    asking = asyncio.ensure_future(
        link.send_action({"Action": "Command", "Command": "core show channels", "ActionID": "c-1"})
    )
    await eventually(lambda: sim.received("Command"))
    sim.send_raw(
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: c-1\r\n"
        b"Channel              Location     State: Up\n\n1 active channel\n"
        b"--END COMMAND--\r\n\r\nEvent: UserEvent\r\nUserEvent: After\r\n\r\n"
    )
    answer = await asking
    assert answer["Response"] == "Follows"
    assert answer["Output"] == "Channel              Location     State: Up\n\n1 active channel"
    await eventually(lambda: rec.named("UserEvent"))
    assert link.is_ready
