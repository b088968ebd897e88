"""Click-to-call (L5), transfer (L4) and hang-up as hub commands carried out over AMI (TCP)."""

from __future__ import annotations

import asyncio

import pytest

from daemon.ami.commands import TelephonyCommands
from daemon.ami.link import AmiLink, fan_out
from models.core.errors import TelephonyError
from models.core.events import ClickToCall, ClickToCallProgress, HangupCall, TransferCall
from models.schema.company import TelephonySettings
from tests.daemon import pbxsim_fixtures as fx
from tests.daemon.pbxsim_fixtures import Recorder, RecordingSleep, ami_settings, eventually

sim = fx.sim
CLIENT = "+34911234567"


class Phone:
    """The wired-up daemon side: link -> (recorder, commands), progress collected from the hub."""

    def __init__(self, link: AmiLink, commands: TelephonyCommands, rec: Recorder) -> None:
        self.link, self.commands, self.rec = link, commands, rec
        self.progress: list[ClickToCallProgress] = []

    def stages(self, request_id: str) -> list[str]:
        return [p.stage for p in self.progress if p.request_id == request_id]

    def last(self, request_id: str) -> ClickToCallProgress:
        return [p for p in self.progress if p.request_id == request_id][-1]


@pytest.fixture
async def phone(sim, hub, world):
    rec = Recorder()
    settings = ami_settings(sim)
    holder: dict[str, TelephonyCommands] = {}

    async def to_commands(event):
        await holder["c"].on_event(event)

    async def resync_commands(snapshot):
        await holder["c"].on_resync(snapshot)

    link = AmiLink(
        settings,
        fan_out(rec.on_event, to_commands),
        fan_out(rec.on_resync, resync_commands),
        sleep=RecordingSleep(),
    )
    commands = TelephonyCommands(link, hub, settings)
    holder["c"] = commands
    commands.register()
    p = Phone(link, commands, rec)

    async def collect(event):
        p.progress.append(event)

    hub.subscribe("test-progress", collect, ClickToCallProgress)
    await link.start()
    await link.wait_ready(10)
    yield p
    await link.stop()


def _call(world, number=CLIENT, request_id="req-1", user=None) -> ClickToCall:
    user = user or world.luis
    return ClickToCall(
        user_id=user.id, extension=user.extension or "", number=number, request_id=request_id
    )


async def test_click_to_call_rings_the_agent_then_the_client(sim, hub, world, phone):
    sim.script_number(CLIENT, "answer", ring=3, talk=8)
    assert await hub.send(_call(world, number="+34 911 23 45 67")) == "req-1"
    await eventually(lambda: phone.stages("req-1") == ["ringing_agent", "dialing", "connected"])

    [originate] = sim.received("Originate")
    assert originate["Channel"] == "PJSIP/101"
    assert originate["Context"] == "from-internal"
    assert originate["Exten"] == CLIENT
    assert originate["ActionID"] == "req-1" and originate["Async"] == "true"
    assert originate["Variable"] == "__CENTRALITA_REQ=req-1"
    assert originate["CallerID"] == f'"{CLIENT}" <101>'
    # The agent's leg is created first, the client's second; both carry the request id.
    created = [e["Channel"] for e in phone.rec.named("Newchannel")]
    assert created[0].startswith("PJSIP/101-") and created[1].startswith("PJSIP/carrier-")
    tagged = {e["Channel"] for e in phone.rec.named("VarSet") if e["Value"] == "req-1"}
    assert tagged == set(created)
    assert phone.last("req-1").linkedid == phone.rec.named("Newchannel")[0]["Linkedid"]


@pytest.mark.parametrize(
    ("without_prefix", "prefix", "number", "dialed"),
    [
        (True, "", "+34911234567", "911234567"),
        (False, "00", "+34911234567", "0034911234567"),
        (True, "0", "+44 20 7946 0018", "0442079460018"),
        (False, "", "911 23 45 67", "+34911234567"),
    ],
)
async def test_the_number_is_dialed_in_the_configured_format(
    sim, hub, world, phone, without_prefix, prefix, number, dialed
):
    await TelephonySettings.all().update(
        is_dial_without_country_prefix=without_prefix, outbound_prefix=prefix
    )
    await hub.send(_call(world, number=number))
    assert sim.received("Originate")[0]["Exten"] == dialed


async def test_a_user_without_extension_is_refused(sim, hub, world, phone):
    world.ana.extension = None
    with pytest.raises(TelephonyError, match="no extension"):
        await hub.send(_call(world, user=world.ana))
    assert sim.received("Originate") == []
    await eventually(lambda: phone.stages("req-1") == ["failed"])


async def test_an_invalid_number_is_refused(sim, hub, world, phone):
    with pytest.raises(TelephonyError, match="not a valid phone number"):
        await hub.send(_call(world, number="call me maybe"))
    assert sim.received("Originate") == []


async def test_a_pbx_that_is_down_is_reported(sim, hub, world, phone):
    await sim.stop()
    with pytest.raises(TelephonyError, match="is not connected"):
        await hub.send(_call(world))


@pytest.mark.parametrize(
    ("agent", "outcome", "reason"),
    [
        ("noanswer", "answer", "did not answer extension 101"),
        ("busy", "answer", "phone 101 is busy"),
        ("answer", "busy", "the number is busy"),
        ("answer", "noanswer", "nobody answered"),
        ("answer", "congestion", "congested"),
        ("answer", "unallocated", "the number does not exist"),
    ],
)
async def test_a_call_that_cannot_be_connected_fails_with_a_reason(
    sim, hub, world, phone, agent, outcome, reason
):
    sim.script_agent("101", agent)
    sim.script_number(CLIENT, outcome)
    await hub.send(_call(world))
    await eventually(lambda: "failed" in phone.stages("req-1"))
    assert reason in phone.last("req-1").reason
    assert "connected" not in phone.stages("req-1")


async def test_a_click_to_call_never_rings_twice_after_a_reconnect(sim, hub, world, phone):
    sim.answer_actions = False
    pending = asyncio.ensure_future(hub.send(_call(world)))
    await eventually(lambda: len(sim.received("Originate")) == 1)
    sim.answer_actions = True
    await sim.drop_clients()
    with pytest.raises(TelephonyError, match="dropped before Originate"):
        await pending
    await eventually(lambda: sim.logins == 2 and phone.link.is_ready)
    await phone.link.send_action({"Action": "Ping"})
    assert len(sim.received("Originate")) == 1
    await eventually(lambda: phone.stages("req-1") == ["failed"])


async def _connected_call(sim, hub, world, phone) -> str:
    sim.script_number(CLIENT, "answer", ring=1, talk=3600)
    await hub.send(_call(world))
    await eventually(lambda: "connected" in phone.stages("req-1"))
    linkedid = phone.last("req-1").linkedid
    assert linkedid
    return linkedid


async def test_transfer_redirects_the_client_to_the_colleague(sim, hub, world, phone):
    linkedid = await _connected_call(sim, hub, world, phone)
    await hub.send(TransferCall(linkedid=linkedid, extension="101", to_extension="102"))

    [redirect] = sim.received("Redirect")
    assert redirect["Channel"].startswith("PJSIP/carrier-")  # the client's leg moves
    assert (redirect["Context"], redirect["Exten"]) == ("from-internal", "102")
    await eventually(
        lambda: any(e["Channel"].startswith("PJSIP/102-") for e in phone.rec.named("BridgeEnter"))
    )
    gone = [e["Channel"] for e in phone.rec.named("Hangup")]
    assert len(gone) == 1 and gone[0].startswith("PJSIP/101-")
    assert {e["Linkedid"] for e in phone.rec.named("BridgeEnter")} == {linkedid}


async def test_transfer_to_an_unknown_extension_is_refused(sim, hub, world, phone):
    linkedid = await _connected_call(sim, hub, world, phone)
    with pytest.raises(TelephonyError, match="no active colleague has extension 555"):
        await hub.send(TransferCall(linkedid=linkedid, extension="101", to_extension="555"))
    assert sim.received("Redirect") == []


async def test_hangup_ends_the_agents_leg_over_ami(sim, hub, world, phone):
    linkedid = await _connected_call(sim, hub, world, phone)
    await hub.send(HangupCall(linkedid=linkedid, extension="101"))

    [hangup] = sim.received("Hangup")
    assert hangup["Channel"].startswith("PJSIP/101-")
    await eventually(lambda: len(phone.rec.named("Hangup")) == 2)
    first = phone.rec.named("Hangup")[0]
    assert first["Channel"] == hangup["Channel"] and first["Cause"] == "16"
    assert sim.pbx.channels == {}


async def test_hangup_of_a_call_the_agent_is_not_in_is_refused(sim, hub, world, phone):
    with pytest.raises(TelephonyError, match="not in this call"):
        await hub.send(HangupCall(linkedid="1795913496.0", extension="101"))


async def test_a_request_lost_with_the_connection_is_reported_after_the_resync(
    sim, hub, world, phone
):
    sim.script_agent("101", "noanswer")  # the agent's phone rings for originate_timeout
    await hub.send(_call(world))
    await eventually(lambda: phone.stages("req-1") == ["ringing_agent"])
    await sim.stop()
    for chan in list(sim.pbx.channels.values()):
        sim.scripts.hangup_channel(chan, 16)  # the call ends while the link is down
    await sim.start()
    await eventually(lambda: "failed" in phone.stages("req-1"))
    assert "connection dropped" in phone.last("req-1").reason
