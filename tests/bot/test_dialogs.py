"""Dialogs (issue 15, item 5): a command ends an open dialog, /skip and /cancel answer at every
step, and a dialog half-way through survives a restart of the bot (its state is in the database).
"""

from __future__ import annotations

from bot import build_dispatcher
from bot.runner import PollingRunner
from models.contacts.clients import ClientInput, create_client
from models.schema.activity import Note
from models.schema.dialogs import ChatDialog
from models.schema.tasks import Task
from models.schema.users import User
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat, eventually

HINT_ES = (
    "Solo entiendo comandos. Para añadir una nota a una llamada, responde a su mensaje. "
    "/ayuda muestra lo que puedo hacer."
)


async def test_a_command_ends_the_note_prompt_so_later_text_is_no_note(
    linked, clock, luis_chat: Chat
):
    await create_client(linked.luis, ClientInput(name="Juan Ruiz"), clock=clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/note"))
    assert (await luis_chat.last_text(1)).startswith("¿De quién es la nota?")
    assert await ChatDialog.exists()
    await luis_chat.feed(updates.message(LUIS_CHAT, "/tasks"))
    assert "No tienes tareas" in await luis_chat.last_text(2)
    assert not await ChatDialog.exists()
    # Chat that follows is not taken as the name the prompt asked for, nor as a note.
    await luis_chat.feed(updates.message(LUIS_CHAT, "Juan Ruiz"))
    assert await luis_chat.last_text(3) == HINT_ES
    assert not await Note.exists()


async def test_a_command_ends_the_task_dialog_too(linked, luis_chat: Chat):
    await luis_chat.feed(updates.message(LUIS_CHAT, "/task"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "Llamar a Pons"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "/find pons"))
    assert await luis_chat.last_text(3) == "No encuentro nada para «pons»."
    await luis_chat.feed(updates.message(LUIS_CHAT, "mañana a las 10"))
    assert await luis_chat.last_text(4) == HINT_ES
    assert not await Task.exists()


async def test_skip_and_cancel_answer_at_every_step(linked, luis_chat: Chat):
    await luis_chat.feed(updates.message(LUIS_CHAT, "/skip"))
    assert await luis_chat.last_text(1) == "No hay nada que saltar."
    await luis_chat.feed(updates.message(LUIS_CHAT, "/cancel"))
    assert await luis_chat.last_text(2) == "No hay nada que cancelar."
    await luis_chat.feed(updates.message(LUIS_CHAT, "/task"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "/skip"))
    assert await luis_chat.last_text(4) == (
        "Este paso no se puede saltar. Respóndelo, o /cancel para salir."
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "Llamar a Pons"))  # still asked the title
    assert (await luis_chat.last_text(5)).startswith("¿Cuándo?")
    await luis_chat.feed(updates.message(LUIS_CHAT, "/cancel"))
    assert await luis_chat.last_text(6) == "Cancelado."
    assert not await ChatDialog.exists()

    await User.filter(id=linked.luis.id).update(language="en")
    await luis_chat.feed(updates.message(LUIS_CHAT, "/note"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "/skip"))
    assert await luis_chat.last_text(8) == (
        "This step cannot be skipped. Answer it, or /cancel to stop."
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "/cancel"))
    assert await luis_chat.last_text(9) == "Cancelled."
    await luis_chat.feed(updates.message(LUIS_CHAT, "/cancel"))
    assert await luis_chat.last_text(10) == "There is nothing to cancel."


async def test_a_dialog_survives_a_restart_of_the_bot(linked, clock, hub, tg_outbox, bot, api):
    """Polling as in production: the bot stops half-way through /task and a new dispatcher,
    built afresh as after a restart, carries on where the chat was."""
    first = PollingRunner(build_dispatcher(clock=clock, hub=hub, telegram_outbox=tg_outbox), bot)
    await first.start()
    api.push_update(updates.message(LUIS_CHAT, "/task"))
    api.push_update(updates.message(LUIS_CHAT, "Preparar oferta"))
    await eventually(lambda: len(api.chat(LUIS_CHAT)) == 2)
    await first.stop()
    assert (await ChatDialog.get()).state == "TaskDialog:due"

    second = PollingRunner(build_dispatcher(clock=clock, hub=hub, telegram_outbox=tg_outbox), bot)
    await second.start()
    try:
        api.push_update(updates.message(LUIS_CHAT, "mañana a las 10"))
        await eventually(lambda: len(api.chat(LUIS_CHAT)) == 3)
        question = api.chat(LUIS_CHAT)[2]
        assert question.text == "📅 jueves 26 de noviembre, 10:00. ¿Es correcto?"
        ok = question.reply_markup["inline_keyboard"][0][0]["callback_data"]
        api.push_update(updates.callback(LUIS_CHAT, ok, message_id=question.message_id))
        await eventually(lambda: len(api.chat(LUIS_CHAT)) == 4)
        api.push_update(updates.message(LUIS_CHAT, "/skip"))
        await eventually(lambda: len(api.chat(LUIS_CHAT)) == 5)
    finally:
        await second.stop()
    assert api.chat(LUIS_CHAT)[4].text.startswith("📅 Tarea creada: Preparar oferta")
    assert await Task.filter(title="Preparar oferta").count() == 1


async def test_a_dialog_left_alone_for_half_a_day_is_over(linked, clock, luis_chat: Chat):
    await luis_chat.feed(updates.message(LUIS_CHAT, "/task"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "Llamar a Pons"))
    await luis_chat.wait_messages(2)
    clock.advance(hours=13)
    await luis_chat.feed(updates.message(LUIS_CHAT, "mañana a las 10"))
    assert await luis_chat.last_text(3) == HINT_ES
    assert not await Task.exists()
