"""Transfers (L4) into `[ami] transfer_context`, over TCP with the PBX simulator, through the
daemon's own pieces: AMI link, commands, tracker and calls service, into the database.

The simulated PBX keeps the colleagues' extensions in a context of their own ("colleagues")
while clients are dialled in "from-internal", which knows only outside numbers: a transfer
sent into the outbound context, as before, would hand the client to an invalid extension.
"""

from __future__ import annotations

import pytest

from daemon.ami.calls_service import CallsService
from daemon.ami.commands import TelephonyCommands
from daemon.ami.link import AmiLink, fan_out
from daemon.config import load_settings
from models.core.errors import TelephonyError
from models.core.events import (
    CallTransferred,
    ClickToCall,
    ClickToCallProgress,
    HangupCall,
    TransferCall,
)
from models.schema.calls import Call
from models.telephony.caller_directory import CallerDirectory
from tests.daemon import pbxsim_fixtures as fx
from tests.daemon.pbxsim_fixtures import Recorder, ami_settings, eventually

sim = fx.sim
CLIENT = "+34911234567"
OUTSIDE_ONLY = {"_+X.": "Dial(PJSIP/${EXTEN}@carrier)", "_00X.": "Dial(PJSIP/${EXTEN}@carrier)"}


class Pbx:
    """The daemon side wired to the simulator, and what it published."""

    def __init__(self, sim, link, commands, calls, rec) -> None:
        self.sim, self.link, self.commands, self.calls, self.rec = sim, link, commands, calls, rec
        self.published: list = []

    def stages(self) -> list[str]:
        return [e.stage for e in self.published if isinstance(e, ClickToCallProgress)]

    def linkedid(self) -> str:
        return next(e.linkedid for e in self.published if isinstance(e, ClickToCallProgress))

    def channel(self, prefix: str):
        """The simulator's live channel whose name starts with `prefix`, if any."""
        return next((c for c in self.sim.pbx.channels.values() if c.name.startswith(prefix)), None)


@pytest.fixture
async def pbx(sim, hub, world, clock):
    sim.define_context("from-internal", OUTSIDE_ONLY)
    sim.define_context("colleagues", ["101", "102"])
    settings = ami_settings(sim, outbound_context="from-internal", transfer_context="colleagues")
    directory = await CallerDirectory.load()
    await directory.extensions.load()
    calls = CallsService.for_pbx(hub, clock, directory, settings, store_workers=1)
    calls.start()
    rec = Recorder()
    holder: dict[str, TelephonyCommands] = {}

    async def to_commands(event):
        await holder["c"].on_event(event)

    # The recorder comes last: an event it holds has been through the tracker already.
    link = AmiLink(settings, fan_out(calls.on_event, to_commands, rec.on_event), calls.on_resync)
    commands = TelephonyCommands(link, hub, settings)
    holder["c"] = commands
    commands.register()
    wired = Pbx(sim, link, commands, calls, rec)

    async def collect(event):
        wired.published.append(event)

    hub.subscribe("test-transfer", collect, ClickToCallProgress, CallTransferred)
    await link.start()
    await link.wait_ready(10)
    yield wired
    await link.stop()
    await calls.stop()


async def _luis_talking_to_the_client(sim, hub, world, pbx: Pbx) -> str:
    sim.script_number(CLIENT, "answer", ring=1, talk=3600)
    await hub.send(
        ClickToCall(user_id=world.luis.id, extension="101", number=CLIENT, request_id="req-1")
    )
    await eventually(lambda: "connected" in pbx.stages())
    return pbx.linkedid()


async def test_a_transfer_goes_into_the_transfer_context_and_the_call_shows_it(
    sim, hub, world, pbx
):
    linkedid = await _luis_talking_to_the_client(sim, hub, world, pbx)
    await hub.send(TransferCall(linkedid=linkedid, extension="101", to_extension="102"))

    [check] = sim.received("ShowDialPlan")
    assert (check["Context"], check["Extension"]) == ("colleagues", "102")
    [redirect] = sim.received("Redirect")
    assert redirect["Channel"].startswith("PJSIP/carrier-")
    assert (redirect["Context"], redirect["Exten"]) == ("colleagues", "102")
    # Marta's phone rings, she answers, and the client talks to her now.
    await eventually(lambda: pbx.channel("PJSIP/102-") is not None)
    marta = pbx.channel("PJSIP/102-")
    await eventually(lambda: marta.bridge is not None)
    client = pbx.channel("PJSIP/carrier-")
    assert client is not None and client.bridge is marta.bridge
    await eventually(lambda: any(isinstance(e, CallTransferred) for e in pbx.published))
    moved = next(e for e in pbx.published if isinstance(e, CallTransferred))
    assert (moved.linkedid, moved.from_extension, moved.to_extension) == (linkedid, "101", "102")

    await hub.send(HangupCall(linkedid=linkedid, extension="102"))
    # Luis's leg, the client's and Marta's: once the three hang-ups went through the tracker,
    # the finished call is in the store's queue.
    await eventually(lambda: len(pbx.rec.named("Hangup")) == 3)
    await pbx.calls.drain()
    stored = await Call.get(linkedid=linkedid)
    assert stored.transfers == [{"from": "101", "to": "102", "kind": "blind"}]
    assert (stored.direction, stored.to_number, stored.result) == ("out", CLIENT, "answered")
    assert stored.agent_id == world.luis.id


async def test_a_transfer_to_an_extension_the_pbx_lacks_keeps_the_client_with_the_agent(
    sim, hub, world, pbx
):
    # Ana (100) is a colleague in the CRM, but the PBX has no 100 in "colleagues".
    linkedid = await _luis_talking_to_the_client(sim, hub, world, pbx)
    with pytest.raises(TelephonyError) as refused:
        await hub.send(TransferCall(linkedid=linkedid, extension="101", to_extension="100"))

    assert sim.received("Redirect") == []
    luis, client = pbx.channel("PJSIP/101-"), pbx.channel("PJSIP/carrier-")
    assert luis is not None and client is not None, "the call was dropped"
    assert client.bridge is not None and client.bridge is luis.bridge
    # Luis reads why, in his language.
    assert refused.value.in_language("en") == (
        "the call was not transferred: the PBX has no extension 100 in context colleagues; "
        "the call stays with you"
    )
    assert refused.value.in_language("es") == (
        "no se ha transferido la llamada: la centralita no tiene la extensión 100 en el "
        "contexto colleagues; la llamada sigue contigo"
    )
    assert not [e for e in pbx.published if isinstance(e, CallTransferred)]


async def test_a_transfer_context_missing_on_the_pbx_is_named(sim, hub, world, pbx):
    pbx.commands.settings = pbx.commands.settings.model_copy(
        update={"transfer_context": "compañeros"}
    )
    linkedid = await _luis_talking_to_the_client(sim, hub, world, pbx)
    with pytest.raises(TelephonyError) as refused:
        await hub.send(TransferCall(linkedid=linkedid, extension="101", to_extension="102"))

    assert "[ami] transfer_context" in refused.value.in_language("es")
    assert "compañeros" in refused.value.in_language("es")
    assert sim.received("Redirect") == []
    assert pbx.channel("PJSIP/carrier-") is not None


async def test_without_the_right_to_read_the_dialplan_the_transfer_goes_ahead(
    sim, hub, world, pbx, caplog
):
    sim.denied_actions.add("showdialplan")
    linkedid = await _luis_talking_to_the_client(sim, hub, world, pbx)
    await hub.send(TransferCall(linkedid=linkedid, extension="101", to_extension="102"))

    assert len(sim.received("Redirect")) == 1
    assert "unchecked" in caplog.text and "Permission denied" in caplog.text
    await eventually(lambda: pbx.channel("PJSIP/102-") is not None)


async def test_what_the_check_prevents_a_redirect_to_a_missing_extension_drops_the_call(
    sim, hub, world, pbx
):
    """The simulator behaves as Asterisk: nothing checks a Redirect's destination."""
    linkedid = await _luis_talking_to_the_client(sim, hub, world, pbx)
    client = pbx.channel("PJSIP/carrier-")
    answer = await pbx.link.send_action(
        {"Action": "Redirect", "Channel": client.name, "Context": "colleagues", "Exten": "100"}
    )
    assert answer["Response"] == "Success"  # Asterisk accepts it...
    await eventually(lambda: not sim.pbx.channels)  # ...and the client is hung up
    gone = {e["Channel"].split("-")[0]: e["Cause"] for e in pbx.rec.named("Hangup")}
    assert gone == {"PJSIP/101": "16", "PJSIP/carrier": "0"}
    assert linkedid


async def test_the_simulator_lists_its_dialplan_as_asterisk_does(sim, hub, world, pbx):
    found = await pbx.link.send_action(
        {"Action": "ShowDialPlan", "Context": "colleagues", "Extension": "102"}
    )
    assert found[0]["Response"] == "Success" and found[0]["EventList"] == "start"
    [listed] = [m for m in found if m.get("Event") == "ListDialplan"]
    assert (listed["Context"], listed["Extension"]) == ("colleagues", "102")
    assert (listed["Priority"], listed["Application"]) == ("1", "Dial")
    assert found[-1]["Event"] == "ShowDialPlanComplete" and found[-1]["ListItems"] == "1"
    # A pattern lists under its own name.
    pattern = await pbx.link.send_action(
        {"Action": "ShowDialPlan", "Context": "from-internal", "Extension": CLIENT}
    )
    assert [m["Extension"] for m in pattern if m.get("Event") == "ListDialplan"] == ["_+X."]

    missing = await pbx.link.send_action(
        {"Action": "ShowDialPlan", "Context": "colleagues", "Extension": "100"}
    )
    assert missing == {
        "Response": "Error",
        "ActionID": missing["ActionID"],
        "Message": "Did not find extension 100@colleagues",
    }
    nowhere = await pbx.link.send_action({"Action": "ShowDialPlan", "Context": "ventas"})
    assert nowhere["Message"] == "Did not find context ventas"
    # The listing is an answer to the action, never an event of the stream.
    assert not pbx.rec.named("ListDialplan") and not pbx.rec.named("ShowDialPlanComplete")


def test_the_transfer_context_defaults_to_the_outbound_context(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[ami]\noutbound_context = "pstn-out"\n', encoding="utf-8")
    assert load_settings(path, environ={}).ami.transfer_context == "pstn-out"
    path.write_text(
        '[ami]\noutbound_context = "pstn-out"\ntransfer_context = "colleagues"\n', encoding="utf-8"
    )
    assert load_settings(path, environ={}).ami.transfer_context == "colleagues"
    overridden = load_settings(path, environ={"CENTRALITA_AMI__TRANSFER_CONTEXT": "agents"})
    assert overridden.ami.transfer_context == "agents"
