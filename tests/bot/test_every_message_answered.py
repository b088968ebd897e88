"""Every message gets an answer (issue 15, item 4): /help, unknown commands, free text, photos,
replies to missed-call alerts, errors and long input, in Spanish and English."""

from __future__ import annotations

import logging

import bot.routers.search
import bot.routers.tasks
from models.contacts.clients import ClientInput, create_client, delete_client
from models.core.events import CallMissed, CallRang
from models.schema.activity import Note
from models.schema.leads import Lead
from models.schema.users import User
from models.telephony.caller_directory import caller_card
from models.work.tasks import TaskInput, create_task
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat, eventually


async def _english(world) -> None:
    await User.filter(id=world.luis.id).update(language="en")


async def test_help_lists_the_commands_in_each_language(linked, luis_chat: Chat):
    await luis_chat.feed(updates.message(LUIS_CHAT, "/ayuda"))
    spanish = await luis_chat.last_text(1)
    assert spanish.splitlines()[0] == "Esto es lo que puedo hacer:"
    for line in (
        "/tasks — Tareas de hoy y atrasadas",
        "/task — Crear una tarea",
        "/note — Añadir una nota",
        "/dialer — Pausar, reanudar o ver tu lista de marcación",
        "/cancel — Dejar lo que estás haciendo",
    ):
        assert line in spanish.splitlines()
    await _english(linked)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/help"))
    english = await luis_chat.last_text(2)
    assert english.splitlines()[0] == "This is what I can do:"
    assert "/call — Call a number or client" in english.splitlines()
    assert "reply to its message or to its missed-call alert" in english


async def test_unknown_commands_free_text_and_photos_get_a_hint(linked, luis_chat: Chat):
    await luis_chat.feed(updates.message(LUIS_CHAT, "/borrar todo"))
    assert await luis_chat.last_text(1) == (
        "No conozco el comando /borrar. /ayuda muestra lo que puedo hacer."
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "hola, ¿qué tal?"))
    assert (await luis_chat.last_text(2)).startswith("Solo entiendo comandos.")
    await luis_chat.feed(updates.photo(LUIS_CHAT))
    assert await luis_chat.last_text(3) == "Solo sé leer texto. /ayuda muestra lo que puedo hacer."
    await _english(linked)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/delete_everything"))
    assert await luis_chat.last_text(4) == (
        "I don't know the command /delete_everything. /help lists what I can do."
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "hello?"))
    assert (await luis_chat.last_text(5)).startswith("I only understand commands.")
    await luis_chat.feed(updates.callback(LUIS_CHAT, "gone:1", message_id=1))
    assert api_alert(luis_chat) == "This button has expired. Send the command again."


def api_alert(chat: Chat) -> str:
    answer = chat.api.calls_of("answerCallbackQuery")[-1].params
    assert answer.get("show_alert") in (True, "true", "True")
    return str(answer["text"])


async def _missed_call(world, hub, number: str, linkedid: str) -> None:
    card = await caller_card(number)
    hub.publish(
        CallRang(
            linkedid=linkedid, direction="in", extension="101", user_id=world.luis.id, card=card
        )
    )
    hub.publish(
        CallMissed(
            linkedid=linkedid, call_id=None, extension="101", user_id=world.luis.id, card=card
        )
    )


async def test_a_reply_to_a_missed_call_alert_is_a_note_on_the_caller(
    linked, clock, hub, notifier, luis_chat: Chat
):
    client = await create_client(
        linked.luis, ClientInput(name="Juan Ruiz", phones=["611 222 333"]), clock=clock
    )
    await _missed_call(linked, hub, "+34611222333", "1700000010.1")
    alert = (await luis_chat.wait_messages(2))[1]
    assert alert.text.startswith("❌ Llamada perdida de Juan Ruiz")
    await luis_chat.feed(
        updates.message(
            LUIS_CHAT,
            "Devolver la llamada después de comer",
            reply_to=alert.message_id,
            replied_text=alert.text,
            replied_markup=alert.reply_markup,
        )
    )
    assert await luis_chat.last_text(3) == "📝 Nota guardada en Juan Ruiz."
    assert await Note.filter(
        client_id=client.id, text="Devolver la llamada después de comer"
    ).exists()


async def test_a_reply_to_an_unknown_callers_alert_says_how(
    linked, clock, hub, notifier, luis_chat: Chat
):
    await _english(linked)
    await _missed_call(linked, hub, "+34699000777", "1700000010.2")
    alert = (await luis_chat.wait_messages(2))[1]

    async def reply(text: str) -> None:
        await luis_chat.feed(
            updates.message(
                LUIS_CHAT,
                text,
                reply_to=alert.message_id,
                replied_text=alert.text,
                replied_markup=alert.reply_markup,
            )
        )

    await reply("Call back tomorrow")
    assert await luis_chat.last_text(3) == (
        "This caller is not a client or lead yet, so the note has nowhere to go. "
        "Press “➕ Create lead” under the call, then reply to it again."
    )
    assert not await Note.exists()
    create = alert.reply_markup["inline_keyboard"][0][0]["callback_data"]
    await luis_chat.feed(updates.callback(LUIS_CHAT, create, message_id=alert.message_id))
    lead = await Lead.get()
    await reply("Call back tomorrow")
    assert await luis_chat.last_text(4) == "📝 Note saved on +34699000777."
    assert await Note.filter(lead_id=lead.id, text="Call back tomorrow").exists()


async def test_a_failure_is_told_in_the_agents_language_and_logged(
    linked, clock, luis_chat: Chat, monkeypatch, caplog
):
    async def broken(*args, **kwargs):
        raise RuntimeError("the search index is on fire")

    monkeypatch.setattr(bot.routers.search, "search_contacts", broken)
    with caplog.at_level(logging.ERROR, logger="bot.routers.errors"):
        await luis_chat.feed(updates.message(LUIS_CHAT, "/find ruiz"))
    assert await luis_chat.last_text(1) == "Algo salió mal, inténtalo de nuevo."
    failure = next(r for r in caplog.records if r.name == "bot.routers.errors")
    assert failure.exc_info is not None and "on fire" in str(failure.exc_info[1])

    await _english(linked)
    monkeypatch.setattr(bot.routers.tasks, "complete_task", broken)
    await create_task(linked.luis, TaskInput(title="Visit", due_at=clock.now()), clock=clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/tasks"))
    listed = (await luis_chat.wait_messages(2))[1]
    done = listed.reply_markup["inline_keyboard"][0][0]["callback_data"]
    await luis_chat.feed(updates.callback(LUIS_CHAT, done, message_id=listed.message_id))
    assert api_alert(luis_chat) == "Something went wrong, please try again."


async def test_a_refusal_of_the_domain_reaches_the_agent(
    linked, clock, hub, notifier, luis_chat: Chat
):
    client = await create_client(
        linked.luis, ClientInput(name="Juan Ruiz", phones=["611 222 333"]), clock=clock
    )
    await _missed_call(linked, hub, "+34611222333", "1700000010.3")
    alert = (await luis_chat.wait_messages(2))[1]
    await delete_client(linked.ana, client.id)  # an admin removes the client meanwhile
    await luis_chat.feed(
        updates.message(
            LUIS_CHAT,
            "Pide visita",
            reply_to=alert.message_id,
            replied_markup=alert.reply_markup,
        )
    )
    assert await luis_chat.last_text(3) == "Ya no existe."


async def test_long_notes_are_kept_whole_or_refused_with_the_limit(
    linked, clock, hub, notifier, luis_chat: Chat
):
    client = await create_client(
        linked.luis, ClientInput(name="Juan Ruiz", phones=["611 222 333"]), clock=clock
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "/note Juan Ruiz"))
    assert (await luis_chat.last_text(1)).startswith("Escribe la nota para Juan Ruiz")
    long_note = "Presupuesto detallado. " * 200  # 4,600 characters
    await luis_chat.feed(updates.message(LUIS_CHAT, long_note))
    assert await luis_chat.last_text(2) == "📝 Nota guardada en Juan Ruiz."
    assert len((await Note.get(client_id=client.id)).text) == len(long_note.strip())

    await luis_chat.feed(updates.message(LUIS_CHAT, "/note Juan Ruiz"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "x" * 12_000))
    assert await luis_chat.last_text(4) == (
        "La nota es demasiado larga: 12000 caracteres, como máximo 10000. "
        "Envía una más corta, o pártela en dos."
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "Versión corta"))  # the prompt is still open
    assert await luis_chat.last_text(5) == "📝 Nota guardada en Juan Ruiz."
    assert await Note.filter(client_id=client.id).count() == 2


async def test_answers_longer_than_telegram_allows_are_split(linked, clock, luis_chat: Chat, api):
    names = [f"Cliente {n:02d} " + "Construcciones y Reformas " * 7 for n in range(10)]
    for number, name in enumerate(names):
        company = "Grupo " + "Inversiones " * 16
        phones = [f"6000000{number:02d}", f"6110000{number:02d}"]
        await create_client(
            linked.luis,
            ClientInput(name=name.strip(), company_name=company.strip(), phones=phones),
            clock=clock,
        )
    await luis_chat.feed(updates.message(LUIS_CHAT, "/find cliente"))
    messages = await luis_chat.wait_messages(2)
    assert all(len(m.text) <= 4096 for m in messages)
    joined = "\n".join(m.text for m in messages)
    assert all(name.strip() in joined for name in names)
    assert not [c for c in api.calls if c.method == "sendMessage" and c.status != 200]

    # A search longer than any name is refused by the domain, and the agent reads why.
    await luis_chat.feed(updates.message(LUIS_CHAT, "/find " + "z" * 4000))
    answer = (await eventually(lambda: len(api.chat(LUIS_CHAT)) >= 3 and api.chat(LUIS_CHAT)))[-1]
    assert answer.text == "No se pudo (búsqueda): como máximo 200 caracteres"
    await luis_chat.feed(updates.message(LUIS_CHAT, "/find " + "z" * 150))
    answer = (await eventually(lambda: len(api.chat(LUIS_CHAT)) >= 4 and api.chat(LUIS_CHAT)))[-1]
    assert answer.text == "No encuentro nada para «" + "z" * 59 + "…»."
