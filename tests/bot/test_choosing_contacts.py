"""Choosing a contact (issue 15, item 6): /note and /call take whole names, and when several
contacts match they offer a button for each; nothing is noted or dialled on a guess."""

from __future__ import annotations

from models.contacts.clients import ClientInput, create_client
from models.core.events import ClickToCall
from models.sales.leads import LeadInput, create_lead
from models.schema.activity import Note
from models.schema.tasks import Task
from models.schema.users import User
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat


def _labels(message) -> list[str]:
    return [row[0]["text"] for row in message.reply_markup["inline_keyboard"]]


async def _pick(chat: Chat, message, label: str) -> None:
    data = next(
        row[0]["callback_data"]
        for row in message.reply_markup["inline_keyboard"]
        if row[0]["text"] == label
    )
    await chat.feed(updates.callback(chat.chat_id, data, message_id=message.message_id))


async def _garcias(world, clock):
    same = await create_client(
        world.luis,
        ClientInput(name="Carlos García García", phones=["600 111 222"]),
        clock=clock,
    )
    other = await create_client(
        world.luis,
        ClientInput(name="Carlos García López", phones=["600 333 444"], company_name="Talleres"),
        clock=clock,
    )
    return same, other


async def test_note_with_a_whole_name_offers_the_matches_and_keeps_the_text(
    linked, clock, luis_chat: Chat
):
    same, other = await _garcias(linked, clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/note Carlos García García llamó ayer"))
    offer = (await luis_chat.wait_messages(1))[0]
    assert offer.text == "Hay varios que coinciden con «Carlos García García». ¿Cuál?"
    assert _labels(offer) == [
        "Carlos García López · Talleres (cliente)",
        "Carlos García García (cliente)",
    ]
    assert not await Note.exists()  # nothing saved on a guess
    await _pick(luis_chat, offer, "Carlos García García (cliente)")
    assert await luis_chat.last_text(2) == "📝 Nota guardada en Carlos García García."
    assert await Note.filter(client_id=same.id, text="llamó ayer").exists()
    assert not await Note.filter(client_id=other.id).exists()


async def test_note_with_only_a_name_asks_for_the_text(linked, clock, luis_chat: Chat):
    await User.filter(id=linked.luis.id).update(language="en")
    same, _ = await _garcias(linked, clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/note Carlos García García"))
    offer = (await luis_chat.wait_messages(1))[0]
    assert offer.text == "Several match “Carlos García García”. Which one?"
    await _pick(luis_chat, offer, "Carlos García García (client)")
    assert await luis_chat.last_text(2) == (
        "Type the note for Carlos García García (/cancel to stop)."
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "Wants a quote by Friday"))
    assert await luis_chat.last_text(3) == "📝 Note saved on Carlos García García."
    assert await Note.filter(client_id=same.id, text="Wants a quote by Friday").exists()
    # The buttons of that choice are spent.
    await _pick(luis_chat, offer, "Carlos García García (client)")
    assert await Note.filter(client_id=same.id).count() == 1


async def test_one_match_takes_the_note_at_once(linked, clock, luis_chat: Chat):
    lead = await create_lead(
        linked.luis, LeadInput(name="Marta Soler", phones=["699 000 111"]), clock=clock
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "/note Marta Soler: revisar contrato"))
    assert await luis_chat.last_text(1) == "📝 Nota guardada en Marta Soler."
    assert await Note.filter(lead_id=lead.id, text="revisar contrato").exists()
    await luis_chat.feed(updates.message(LUIS_CHAT, "/note Nadie Conocido hola"))
    assert await luis_chat.last_text(2) == (
        "No encuentro nada para «Nadie Conocido hola».\nEscribe otro nombre o teléfono, o /cancel."
    )


async def test_call_by_name_offers_every_phone_and_dials_only_the_one_chosen(
    linked, clock, hub, luis_chat: Chat
):
    requests: list[ClickToCall] = []

    async def pbx(command: ClickToCall) -> None:
        requests.append(command)

    hub.handle(ClickToCall, pbx)
    await _garcias(linked, clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/call Carlos García"))
    offer = (await luis_chat.wait_messages(1))[0]
    assert offer.text == "Hay varios que coinciden con «Carlos García». ¿Cuál?"
    assert _labels(offer) == [
        "Carlos García López · +34600333444",
        "Carlos García García · +34600111222",
    ]
    assert requests == []  # never the first match silently
    await _pick(luis_chat, offer, "Carlos García García · +34600111222")
    assert await luis_chat.last_text(2) == "Llamando a +34600111222… primero sonará tu extensión."
    assert [(r.extension, r.number) for r in requests] == [("101", "+34600111222")]


async def test_call_one_contact_with_two_phones_asks_which(linked, clock, hub, luis_chat: Chat):
    requests: list[ClickToCall] = []

    async def pbx(command: ClickToCall) -> None:
        requests.append(command)

    hub.handle(ClickToCall, pbx)
    await create_client(
        linked.luis,
        ClientInput(name="Ferretería Pons", phones=["933 001 122", "611 000 999"]),
        clock=clock,
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "/call Ferretería Pons"))
    offer = (await luis_chat.wait_messages(1))[0]
    assert _labels(offer) == [
        "Ferretería Pons · +34933001122",
        "Ferretería Pons · +34611000999",
    ]
    await _pick(luis_chat, offer, "Ferretería Pons · +34611000999")
    await luis_chat.wait_messages(2)
    assert [r.number for r in requests] == ["+34611000999"]


async def test_task_contact_step_offers_the_matches(linked, clock, luis_chat: Chat):
    same, _ = await _garcias(linked, clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/task Enviar catálogo"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "mañana a las 10"))
    question = (await luis_chat.wait_messages(2))[-1]
    ok = question.reply_markup["inline_keyboard"][0][0]["callback_data"]
    await luis_chat.feed(updates.callback(LUIS_CHAT, ok, message_id=question.message_id))
    await luis_chat.feed(updates.message(LUIS_CHAT, "Carlos García"))
    offer = (await luis_chat.wait_messages(4))[-1]
    assert offer.text == "Hay varios que coinciden con «Carlos García». ¿Cuál?"
    await _pick(luis_chat, offer, "Carlos García García (cliente)")
    assert (await luis_chat.last_text(5)).endswith("— Carlos García García")
    assert (await Task.get(title="Enviar catálogo")).client_id == same.id
