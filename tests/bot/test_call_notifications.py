"""B2: a call ringing for a linked agent becomes a Telegram message with the caller's card,
edited as the call is answered and ends; missed calls send an alert; buttons work."""

from __future__ import annotations

from models.contacts.clients import ClientInput, create_client
from models.contacts.notes import add_note
from models.core.events import CallAnswered, CallEnded, CallMissed, CallRang, CallStoppedRinging
from models.sales.deals import create_deal
from models.schema.activity import Note
from models.schema.leads import Lead
from models.schema.users import User
from models.telephony.call_record import CallRecord
from models.telephony.caller_directory import caller_card, record_call
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, MARTA_CHAT, Chat, eventually

NUMBER = "+34611222333"


async def _client_with_history(world, clock):
    client = await create_client(
        world.luis,
        ClientInput(name="Juan Ruiz", phones=["611 222 333"], company_name="Ruiz Obras SL"),
        clock=clock,
    )
    await create_deal(world.luis, client.id, "Reforma oficina", "12500.50", "EUR", clock=clock)
    await create_deal(world.luis, client.id, "Soporte anual", "900", "USD", clock=clock)
    await add_note(
        world.luis, "Quiere presupuesto antes del viernes", client_id=client.id, clock=clock
    )
    return client


def _buttons(message) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [button["callback_data"].split(":")[1] for row in rows for button in row]


def _ring(world, linkedid: str, card, user=None) -> CallRang:
    user = user or world.luis
    return CallRang(
        linkedid=linkedid, direction="in", extension=user.extension, user_id=user.id, card=card
    )


async def test_ringing_sends_the_card_then_edits_it_as_the_call_goes(
    linked, clock, hub, notifier, luis_chat: Chat, api
):
    world = linked
    await _client_with_history(world, clock)
    hub.publish(_ring(world, "1700000000.1", await caller_card(NUMBER)))
    message = (await luis_chat.wait_messages(1))[0]
    assert "Llamada entrante" in message.text
    assert "Juan Ruiz · Ruiz Obras SL (cliente)" in message.text
    shown = message.text.replace("\xa0", " ")  # Babel puts a no-break space before the symbol
    assert "Reforma oficina: 12.500,50 €" in shown
    assert "Soporte anual: 900,00 US$" in shown
    assert "Quiere presupuesto antes del viernes" in message.text
    assert "Sonando" in message.text
    assert _buttons(message) == ["note", "task", "back"]

    hub.publish(CallAnswered(linkedid="1700000000.1", extension="101", user_id=world.luis.id))
    await eventually(lambda: "En curso" in api.chat(LUIS_CHAT)[0].text)
    hub.publish(
        CallEnded(
            linkedid="1700000000.1",
            call_id=None,
            extension="101",
            user_id=world.luis.id,
            result="answered",
            talk_seconds=155,
        )
    )
    await eventually(lambda: "duración 2:35" in api.chat(LUIS_CHAT)[0].text)
    assert len(api.chat(LUIS_CHAT)) == 1  # edited in place, never a second message
    assert "Juan Ruiz" in api.chat(LUIS_CHAT)[0].text


async def test_unknown_caller_in_english_offers_create_lead(linked, clock, hub, notifier, api):
    world = linked
    await User.filter(id=world.marta.id).update(language="en")
    hub.publish(_ring(world, "1700000000.2", await caller_card("+34699000111"), user=world.marta))
    message = (await eventually(lambda: api.chat(MARTA_CHAT)))[0]
    assert "Incoming call" in message.text and "Unknown number" in message.text
    assert _buttons(message) == ["lead", "task", "back"]


async def test_event_delivered_twice_sends_once_and_unlinked_agent_gets_nothing(
    linked, clock, hub, notifier, api
):
    world = linked
    card = await caller_card(NUMBER)
    hub.publish(_ring(world, "1700000000.3", card))
    hub.publish(_ring(world, "1700000000.3", card))
    hub.publish(_ring(world, "1700000000.3", card, user=world.ana))  # Ana never linked a chat
    await hub.drain()
    await eventually(lambda: api.calls_of("sendMessage"))
    await hub.drain()
    assert len(api.calls_of("sendMessage")) == 1


async def test_missed_call_edits_and_alerts(linked, clock, hub, notifier, api):
    world = linked
    card = await caller_card("+34699000222")
    hub.publish(_ring(world, "1700000000.4", card))
    await eventually(lambda: api.chat(LUIS_CHAT))
    hub.publish(
        CallMissed(
            linkedid="1700000000.4", call_id=None, extension="101", user_id=world.luis.id, card=card
        )
    )
    messages = await eventually(lambda: len(api.chat(LUIS_CHAT)) == 2 and api.chat(LUIS_CHAT))
    assert "Llamada perdida de +34699000222" in messages[1].text
    await eventually(lambda: "Perdida" in api.chat(LUIS_CHAT)[0].text)


async def test_answered_by_a_colleague(linked, clock, hub, notifier, api):
    world = linked
    card = await caller_card("+34699000333")
    hub.publish(_ring(world, "1700000000.5", card))
    hub.publish(_ring(world, "1700000000.5", card, user=world.marta))
    await eventually(lambda: api.chat(LUIS_CHAT) and api.chat(MARTA_CHAT))
    hub.publish(
        CallStoppedRinging(
            linkedid="1700000000.5", extension="101", user_id=world.luis.id, answered_by="102"
        )
    )
    hub.publish(CallAnswered(linkedid="1700000000.5", extension="102", user_id=world.marta.id))
    await eventually(lambda: "otro agente" in api.chat(LUIS_CHAT)[0].text)
    await eventually(lambda: "En curso" in api.chat(MARTA_CHAT)[0].text)


async def test_create_lead_pressed_twice_makes_one_lead(
    linked, clock, hub, notifier, luis_chat: Chat, api
):
    world = linked
    hub.publish(_ring(world, "1700000000.6", await caller_card("+34699000444")))
    message = (await luis_chat.wait_messages(1))[0]
    data = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
    press = updates.callback(LUIS_CHAT, data, message_id=message.message_id)
    again = updates.callback(LUIS_CHAT, data, message_id=message.message_id)
    await luis_chat.feed(press)
    await luis_chat.feed(again)
    leads = await Lead.all().prefetch_related("phones")
    assert len(leads) == 1
    assert leads[0].phones[0].e164 == "+34699000444"
    assert leads[0].responsible_id == world.luis.id
    answers = [c.params.get("text", "") for c in api.calls_of("answerCallbackQuery")]
    assert answers[0].startswith("Lead creado") and answers[1].startswith("Ya existe")
    # The notification now names the lead and offers a note instead of "create lead".
    await eventually(lambda: _buttons(api.chat(LUIS_CHAT)[0]) == ["note", "task", "back"])


async def test_reply_to_the_call_message_adds_a_note_to_the_client(
    linked, clock, hub, notifier, luis_chat: Chat
):
    world = linked
    client = await _client_with_history(world, clock)
    hub.publish(_ring(world, "1700000000.7", await caller_card(NUMBER)))
    message = (await luis_chat.wait_messages(1))[0]
    recorded = await record_call(
        CallRecord(
            linkedid="1700000000.7",
            direction="in",
            from_number=NUMBER,
            to_number="900100200",
            started_at=clock.now(),
            result="answered",
            agent_extension="101",
            talk_seconds=60,
        ),
        clock=clock,
    )
    reply = updates.message(LUIS_CHAT, "Pide visita el lunes", reply_to=message.message_id)
    await luis_chat.feed(reply)
    await luis_chat.feed(reply)  # Telegram delivers it again (a webhook retry)
    assert "Nota guardada en Juan Ruiz" in await luis_chat.last_text(2)
    note = await Note.get(text="Pide visita el lunes")  # one note, not two
    assert note.call_id == recorded.call.id
    assert await Note.filter(
        client_id=client.id, text="Pide visita el lunes", author_id=world.luis.id
    ).exists()


async def test_note_button_then_text(linked, clock, hub, notifier, luis_chat: Chat):
    world = linked
    client = await _client_with_history(world, clock)
    hub.publish(_ring(world, "1700000000.8", await caller_card(NUMBER)))
    message = (await luis_chat.wait_messages(1))[0]
    data = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
    await luis_chat.feed(updates.callback(LUIS_CHAT, data, message_id=message.message_id))
    assert "Responde" in await luis_chat.last_text(2)
    await luis_chat.feed(updates.message(LUIS_CHAT, "Enviar catálogo"))
    assert "Nota guardada" in await luis_chat.last_text(3)
    assert await Note.filter(client_id=client.id, text="Enviar catálogo").exists()


async def test_someone_elses_notification_buttons_do_nothing(
    linked, clock, hub, notifier, api, dp, bot
):
    world = linked
    hub.publish(_ring(world, "1700000000.9", await caller_card("+34699000555")))
    message = (await eventually(lambda: api.chat(LUIS_CHAT)))[0]
    data = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
    marta = Chat(dp, bot, api, MARTA_CHAT)
    await marta.feed(updates.callback(MARTA_CHAT, data, message_id=message.message_id))
    assert not await Lead.exists()
    assert api.calls_of("answerCallbackQuery")[-1].params.get("show_alert") in (
        "true",
        True,
        "True",
    )


async def test_outgoing_call_not_answered(linked, clock, hub, notifier, api):
    world = linked
    hub.publish(
        CallRang(
            linkedid="1700000002.1",
            direction="out",
            extension="101",
            user_id=world.luis.id,
            card=await caller_card("+34699000888"),
        )
    )
    assert "Llamada saliente" in (await eventually(lambda: api.chat(LUIS_CHAT)))[0].text
    hub.publish(
        CallEnded(
            linkedid="1700000002.1",
            call_id=None,
            extension="101",
            user_id=world.luis.id,
            result="no_answer",
        )
    )
    await eventually(lambda: "No contestada" in api.chat(LUIS_CHAT)[0].text)
    assert len(api.chat(LUIS_CHAT)) == 1
