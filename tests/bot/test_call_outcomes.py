"""Issue 15 (items 2 and 3): what a Telegram call card says about outbound calls and missed calls,
with the calls coming from the PBX: the simulator over TCP through the daemon's own telephony
(`start_telephony`: AMI link, tracker, calls service), or a recording of a real Asterisk replayed
through the calls service; the bot's notifier and outbox send to the local Bot API server.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bot.cards import CallButton
from daemon.ami.calls_service import CallsService
from daemon.ami.traces import load_events
from daemon.telephony import start_telephony
from models.contacts.clients import ClientInput, create_client
from models.core.events import CallerCard, CallRang, ClickToCall, LeadCreated
from models.core.settings import AmiSettings, Settings
from models.schema.leads import Lead
from models.schema.telegram import TelegramMessage
from models.telephony.caller_directory import CallerDirectory
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, MARTA_CHAT, Chat, eventually

TRACES = Path(__file__).resolve().parents[1] / "fixtures" / "ami-traces"


def _buttons(message) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [button["callback_data"].split(":")[1] for row in rows for button in row]


@pytest.fixture
async def pbx(linked, hub, clock, tmp_path):
    """The daemon's telephony over its built-in PBX simulator (no demo calls)."""
    settings = Settings(data_dir=tmp_path, ami=AmiSettings(simulator_demo=False))
    async with AsyncExitStack() as stack:
        started = await start_telephony(stack, settings, hub, clock, simulator_speed=50.0)
        await started.link.wait_ready(10)
        yield started


async def test_a_click_to_call_card_shows_the_client_and_ends_busy(
    pbx, linked, hub, clock, notifier, api
):
    world = linked
    await create_client(
        world.luis,
        ClientInput(name="Juan Ruiz", phones=["+34 911 234 569"], company_name="Ruiz Obras SL"),
        clock=clock,
    )
    pbx.simulator.script_number("+34911234569", "busy")
    await hub.send(ClickToCall(world.luis.id, "101", "+34911234569", "c2c-busy-1"))

    first = (await eventually(lambda: api.chat(LUIS_CHAT)))[0]
    assert first.text.startswith("📞 Llamada saliente a +34911234569\n")
    assert "👤 Juan Ruiz · Ruiz Obras SL (cliente)" in first.text
    assert "desconocido" not in first.text
    assert _buttons(first) == ["note", "task", "back"]  # a client: no "create lead"
    await eventually(lambda: api.chat(LUIS_CHAT)[0].text.endswith("📵 Ocupado"))
    assert "Juan Ruiz" in api.chat(LUIS_CHAT)[0].text
    assert len(api.chat(LUIS_CHAT)) == 1  # edited in place


async def test_an_auto_dialer_style_call_to_an_unknown_number_ends_not_answered_and_its_lead_works(
    pbx, linked, hub, clock, notifier, api, dp, bot
):
    world = linked
    made: list[LeadCreated] = []

    async def on_lead(event: LeadCreated) -> None:
        made.append(event)

    hub.subscribe("test-lead-created", on_lead, LeadCreated)  # what webhooks listen to
    pbx.simulator.script_number("+34911234568", "noanswer")
    # The auto-dialer places its calls as the same command, with its own request id.
    await hub.send(ClickToCall(world.luis.id, "101", "+34911234568", "dial-7-abc"))

    first = (await eventually(lambda: api.chat(LUIS_CHAT)))[0]
    assert first.text.startswith("📞 Llamada saliente a +34911234568\n")
    assert "👤 Número desconocido" in first.text
    assert _buttons(first) == ["lead", "task", "back"]
    luis = Chat(dp, bot, api, LUIS_CHAT)
    data = first.reply_markup["inline_keyboard"][0][0]["callback_data"]
    await luis.feed(updates.callback(LUIS_CHAT, data, message_id=first.message_id))
    answer = api.calls_of("answerCallbackQuery")[-1].params.get("text", "")
    assert answer.startswith("Lead creado"), answer
    lead = await Lead.get().prefetch_related("phones")
    assert lead.phones[0].e164 == "+34911234568"
    await eventually(lambda: [event.lead_id for event in made] == [lead.id])

    await eventually(lambda: "📵 No contestada" in api.chat(LUIS_CHAT)[0].text)
    assert "En curso" not in api.chat(LUIS_CHAT)[0].text
    assert len(api.chat(LUIS_CHAT)) == 1


async def test_a_call_ringing_one_agent_that_nobody_answers_reads_as_missed(
    pbx, linked, hub, clock, notifier, api
):
    sim = pbx.simulator
    call = await sim.inbound_call("+34622111333", "900100200", ["101"], caller_name="José Núñez")
    first = (await eventually(lambda: api.chat(LUIS_CHAT)))[0]
    assert first.text.startswith("📞 Llamada entrante de +34622111333\n")
    assert "👤 José Núñez (no está en el CRM)" in first.text
    await call.done()

    messages = await eventually(lambda: len(api.chat(LUIS_CHAT)) == 2 and api.chat(LUIS_CHAT))
    # Its auto-lead is named after the caller, and the alert says who called.
    assert messages[1].text == "❌ Llamada perdida de José Núñez (+34622111333)"
    await eventually(lambda: api.chat(LUIS_CHAT)[0].text.endswith("❌ Perdida"))
    assert "otro agente" not in api.chat(LUIS_CHAT)[0].text
    assert (await Lead.get()).name == "José Núñez"


async def test_the_recorded_missed_call_of_a_real_asterisk_reads_as_missed(
    linked, hub, clock, notifier, api
):
    """inbound_missed.ami: DID 900100201 rings agent 102 (Marta) for 20 s, nobody answers."""
    directory = await CallerDirectory.load()
    await directory.extensions.load()
    service = CallsService.for_pbx(
        hub,
        clock,
        directory,
        AmiSettings(agent_channel="Local/{extension}@agents"),
        trunk_channels=("Local/*@pstn-carrier-*;1", "Local/*@from-pstn-*;2"),
    )
    service.start()
    try:
        for event in load_events(TRACES / "inbound_missed.ami"):
            await service.on_event(event)
        await service.drain()
    finally:
        await service.stop()

    messages = await eventually(lambda: len(api.chat(MARTA_CHAT)) == 2 and api.chat(MARTA_CHAT))
    assert messages[1].text.startswith("❌ Llamada perdida de ")
    assert "+34600111222" in messages[1].text
    card = await eventually(
        lambda: api.chat(MARTA_CHAT)[0].text.endswith("❌ Perdida") and api.chat(MARTA_CHAT)[0]
    )
    assert card.text.startswith("📞 Llamada entrante de +34600111222\n")
    assert "otro agente" not in card.text
    assert not api.chat(LUIS_CHAT)  # only Marta's phone rang


async def test_a_call_without_a_number_offers_no_lead_and_a_stale_button_says_why(
    linked, hub, notifier, api, dp, bot
):
    world = linked
    hub.publish(
        CallRang("anon-1", "in", "101", world.luis.id, CallerCard(number=""), did="900100200")
    )
    first = (await eventually(lambda: api.chat(LUIS_CHAT)))[0]
    assert "👤 Número desconocido" in first.text
    assert _buttons(first) == ["task"]  # nothing to save, nobody to call back
    # A "create lead" button of this message (an older version of the bot drew one).
    luis = Chat(dp, bot, api, LUIS_CHAT)
    notification = await TelegramMessage.get(linkedid="anon-1")
    forged = CallButton(action="lead", n=notification.id).pack()
    await luis.feed(updates.callback(LUIS_CHAT, forged, message_id=first.message_id))
    answer = api.calls_of("answerCallbackQuery")[-1].params
    assert answer.get("text", "").startswith("No se pudo")
    assert "no tiene número" in answer.get("text", "")
    assert not await Lead.exists()
