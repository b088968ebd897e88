"""The simulator speaks AMI byte for byte as the recorded Asterisk 22 does."""

from __future__ import annotations

import asyncio
from pathlib import Path

from daemon.ami.wire import parse_stream
from tests.daemon import pbxsim_fixtures as fx

sim = fx.sim
TRACES = Path(__file__).parents[1] / "fixtures" / "ami-traces"


def action(**headers: str) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n"


async def converse(sim, *actions: bytes) -> bytes:
    """Send the actions and read everything until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    for data in actions:
        writer.write(data)
    await writer.drain()
    received = await asyncio.wait_for(reader.read(-1), 5)
    writer.close()
    return received


async def test_wrong_secret_is_answered_as_asterisk_does(sim):
    received = await converse(
        sim,
        action(Action="Login", ActionID="login_failed-1", Username="crm", Secret="wrong-secret"),
    )
    assert received == (TRACES / "login_failed.ami").read_bytes()


async def test_actions_before_login_are_refused_as_asterisk_does(sim):
    received = await converse(
        sim,
        action(Action="Ping", ActionID="action_without_login-1"),
        action(Action="CoreShowChannels", ActionID="action_without_login-2"),
        action(Action="Logoff", ActionID="action_without_login-3"),
    )
    assert received == (TRACES / "action_without_login.ami").read_bytes()


async def test_login_ping_list_and_logoff(sim):
    await sim.inbound_call("+34911234567", "900100200", ["101"], answer_by="101", talk=3600)
    received = await converse(
        sim,
        action(Action="Login", ActionID="t-1", Username="crm", Secret="crm-secret", Events="off"),
        action(Action="Ping", ActionID="t-2"),
        action(Action="CoreShowChannels", ActionID="t-3"),
        action(Action="Logoff", ActionID="t-4"),
    )
    text = received.decode()
    assert text.startswith("Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: t-1\r\n")
    messages = parse_stream(text)
    kinds = [m.get("Event") or m.get("Response") for m in messages]
    assert kinds == [
        "Success",  # login; Events: off, so no FullyBooted and no call events
        "Success",
        "Success",
        "CoreShowChannel",
        "CoreShowChannel",
        "CoreShowChannelsComplete",
        "Goodbye",
    ]
    assert messages[1]["Ping"] == "Pong" and messages[1]["ActionID"] == "t-2"
    assert messages[2]["EventList"] == "start"
    channel = messages[3]
    recorded = parse_stream((TRACES / "show_channels.ami").read_text())
    recorded_channel = next(m for m in recorded if m.get("Event") == "CoreShowChannel")
    assert list(channel) == list(recorded_channel)  # the same fields in the same order
    assert messages[5]["ListItems"] == "2" and messages[5]["ActionID"] == "t-3"
    assert messages[6]["Message"] == "Thanks for all the fish."


async def test_unknown_action_and_unknown_channel_are_errors(sim):
    received = await converse(
        sim,
        action(Action="Login", Username="crm", Secret="crm-secret", Events="off"),
        action(Action="Frobnicate", ActionID="x-1"),
        action(Action="Hangup", ActionID="x-2", Channel="PJSIP/999-00000000"),
        action(Action="Logoff"),
    )
    messages = parse_stream(received.decode())
    assert messages[1] == {
        "Response": "Error",
        "ActionID": "x-1",
        "Message": "Invalid/unknown command",
    }
    assert messages[2]["Message"] == "No such channel"


async def test_events_carry_the_fields_of_the_recordings(sim):
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(action(Action="Login", Username="crm", Secret="crm-secret"))
    assert b"Authentication accepted" in await reader.readuntil(b"\r\n\r\n")
    call = await sim.inbound_call("+34911234567", "900100200", ["101"], answer_by="101", talk=5)
    await call.done()
    writer.write(action(Action="Logoff"))
    text = (await asyncio.wait_for(reader.read(-1), 5)).decode()
    writer.close()
    ours = {m["Event"]: list(m) for m in parse_stream(text) if "Event" in m}
    recorded = {}
    for m in parse_stream((TRACES / "inbound_unknown_answered.ami").read_text()):
        if "Event" in m and m.get("Channel") and m["Event"] not in recorded:
            recorded[m["Event"]] = list(m)
    for name in ("Newchannel", "Newstate", "DialBegin", "DialEnd", "BridgeEnter", "Hangup"):
        assert ours[name] == recorded[name], name
