"""/task from chat: the due time typed in words is said back and confirmed with buttons before
anything is saved (issue 15, item 1). The clock stands at Wednesday 25 November 2026, 10:00 UTC
(11:00 in Madrid, 04:00 in Mexico City)."""

from __future__ import annotations

from datetime import UTC, datetime

from models.contacts.clients import ClientInput, create_client
from models.core.events import CallRang
from models.schema.tasks import Task
from models.schema.users import User
from models.telephony.caller_directory import caller_card
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat, eventually


def _buttons(message) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


def _data(message, label: str) -> str:
    rows = message.reply_markup["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if b["text"] == label)


async def _press(chat: Chat, message, label: str, data: str | None = None) -> None:
    data = data or _data(message, label)
    await chat.feed(updates.callback(chat.chat_id, data, message_id=message.message_id))


async def test_spanish_date_is_confirmed_before_the_task_is_saved(linked, clock, luis_chat, api):
    client = await create_client(
        linked.luis, ClientInput(name="Ferretería Pons", phones=["933001122"]), clock=clock
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "/task"))
    assert await luis_chat.last_text(1) == "Nueva tarea. ¿Título? (/cancel para salir)"
    await luis_chat.feed(updates.message(LUIS_CHAT, "Llevar muestras"))
    assert (await luis_chat.last_text(2)).startswith("¿Cuándo? Por ejemplo «mañana a las 10»")
    await luis_chat.feed(updates.message(LUIS_CHAT, "mañana a las 10"))
    question = (await luis_chat.wait_messages(3))[-1]
    assert question.text == "📅 jueves 26 de noviembre, 10:00. ¿Es correcto?"
    assert _buttons(question) == ["✅ Confirmar", "✏️ Cambiar"]
    assert not await Task.exists()  # nothing saved before the agent confirms

    await _press(luis_chat, question, "✅ Confirmar")
    assert (await luis_chat.last_text(4)).startswith("¿Para qué cliente o lead?")
    # The question was answered: it keeps the date and loses its buttons.
    await eventually(lambda: api.chat(LUIS_CHAT)[2].edits == 1)
    assert api.chat(LUIS_CHAT)[2].text == "📅 jueves 26 de noviembre, 10:00"
    assert not api.chat(LUIS_CHAT)[2].reply_markup

    await luis_chat.feed(updates.message(LUIS_CHAT, "Pons"))
    assert await luis_chat.last_text(5) == (
        "📅 Tarea creada: Llevar muestras, jueves 26 de noviembre, 10:00 — Ferretería Pons"
    )
    task = await Task.get(title="Llevar muestras").prefetch_related("assignees")
    assert task.due_at == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Madrid
    assert task.client_id == client.id
    assert [u.id for u in task.assignees] == [linked.luis.id]


async def test_english_unreadable_then_changed_then_retyped_date(linked, clock, luis_chat, api):
    await User.filter(id=linked.luis.id).update(language="en")
    await luis_chat.feed(updates.message(LUIS_CHAT, "/task Send the contract", language="en"))
    assert (await luis_chat.last_text(1)).startswith("When? For example “tomorrow at 10”")
    await luis_chat.feed(updates.message(LUIS_CHAT, "whenever you like", language="en"))
    assert (await luis_chat.last_text(2)).startswith(
        "I can't read “whenever you like” as a date. When?"
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "friday 3:30pm", language="en"))
    first = (await luis_chat.wait_messages(3))[-1]
    assert first.text == "📅 Friday 27 November, 15:30. Is that right?"
    assert _buttons(first) == ["✅ Confirm", "✏️ Change"]

    await _press(luis_chat, first, "✏️ Change")
    assert (await luis_chat.last_text(4)).startswith("When?")
    await luis_chat.feed(updates.message(LUIS_CHAT, "tomorrow at 10", language="en"))
    second = (await luis_chat.wait_messages(5))[-1]
    assert second.text == "📅 Thursday 26 November, 10:00. Is that right?"
    # Typing another date instead of pressing a button asks again about that one.
    await luis_chat.feed(updates.message(LUIS_CHAT, "tonight", language="en"))
    third = (await luis_chat.wait_messages(6))[-1]
    assert third.text == "📅 Wednesday 25 November, 20:00. Is that right?"
    # The buttons under the time typed before confirm nothing.
    await _press(luis_chat, second, "✅ Confirm")
    assert api.calls_of("answerCallbackQuery")[-1].params["text"] == (
        "This button has expired. Send the command again."
    )
    assert not await Task.exists()

    await _press(luis_chat, third, "✅ Confirm")
    assert (await luis_chat.last_text(7)).startswith("For which client or lead?")
    await luis_chat.feed(updates.message(LUIS_CHAT, "/skip", language="en"))
    assert await luis_chat.last_text(8) == (
        "📅 Task created: Send the contract, Wednesday 25 November, 20:00"
    )
    task = await Task.get(title="Send the contract")
    assert task.due_at == datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
    assert task.client_id is None and task.lead_id is None


async def test_a_past_time_and_a_long_title_are_refused_with_the_reason(linked, luis_chat):
    await luis_chat.feed(updates.message(LUIS_CHAT, "/task"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "x" * 250))
    assert await luis_chat.last_text(2) == (
        "El título es demasiado largo (250 caracteres, como máximo 200). ¿Uno más corto?"
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "Revisar pedido"))
    await luis_chat.wait_messages(3)
    await luis_chat.feed(updates.message(LUIS_CHAT, "hoy a las 9"))
    assert await luis_chat.last_text(4) == (
        "Eso ya ha pasado (miércoles 25 de noviembre, 09:00). ¿Cuándo, entonces?"
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "hoy a las 13"))
    assert await luis_chat.last_text(5) == "📅 miércoles 25 de noviembre, 13:00. ¿Es correcto?"


async def test_the_users_time_zone_reads_the_time(linked, clock, luis_chat):
    await User.filter(id=linked.luis.id).update(time_zone="America/Mexico_City")
    await luis_chat.feed(updates.message(LUIS_CHAT, "/task Visitar almacén"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "a las 10"))
    question = (await luis_chat.wait_messages(2))[-1]
    assert question.text == "📅 miércoles 25 de noviembre, 10:00. ¿Es correcto?"  # 04:00 there
    await _press(luis_chat, question, "✅ Confirmar")
    await luis_chat.wait_messages(3)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/skip"))
    await luis_chat.wait_messages(4)
    task = await Task.get(title="Visitar almacén")
    assert task.due_at == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


async def test_task_from_a_call_skips_the_contact_step(linked, clock, hub, notifier, luis_chat):
    client = await create_client(
        linked.luis, ClientInput(name="Juan Ruiz", phones=["611 222 333"]), clock=clock
    )
    hub.publish(
        CallRang(
            linkedid="1700000003.1",
            direction="in",
            extension="101",
            user_id=linked.luis.id,
            card=await caller_card("+34611222333"),
        )
    )
    call = (await luis_chat.wait_messages(1))[0]
    await _press(luis_chat, call, "📅 Tarea")
    await luis_chat.feed(updates.message(LUIS_CHAT, "Enviar presupuesto"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "el viernes a las 15:30"))
    question = (await luis_chat.wait_messages(4))[-1]
    assert question.text == "📅 viernes 27 de noviembre, 15:30. ¿Es correcto?"
    await _press(luis_chat, question, "✅ Confirmar")
    assert await luis_chat.last_text(5) == (
        "📅 Tarea creada: Enviar presupuesto, viernes 27 de noviembre, 15:30 — Juan Ruiz"
    )
    task = await Task.get(title="Enviar presupuesto")
    assert task.client_id == client.id
    assert task.due_at == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
