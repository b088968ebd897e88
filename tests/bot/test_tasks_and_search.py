"""B3 from chat: /tasks (today and overdue) with done/reschedule buttons, /find and /note.

The /task dialog is in test_task_dialog.py, choosing among several contacts in
test_choosing_contacts.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.contacts.clients import ClientInput, create_client
from models.sales.leads import LeadInput, create_lead
from models.schema.activity import Note
from models.schema.tasks import Task
from models.schema.users import User
from models.work.tasks import TaskInput, create_task
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat, eventually


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def _tasks(world, clock):
    client = await create_client(
        world.luis, ClientInput(name="Juan Ruiz", phones=["611222333"]), clock=clock
    )
    overdue = await create_task(
        world.luis, TaskInput(title="Enviar presupuesto", due_at=_at(24, 9)), clock=clock
    )
    today = await create_task(
        world.luis,
        TaskInput(title="Llamar a Juan", due_at=_at(25, 15), client_id=client.id),
        clock=clock,
    )
    await create_task(
        world.luis, TaskInput(title="Visita", due_at=_at(27, 9)), clock=clock
    )  # Friday
    await create_task(world.marta, TaskInput(title="De Marta", due_at=_at(25, 11)), clock=clock)
    return overdue, today


async def test_tasks_lists_today_and_overdue_only(linked, clock, luis_chat: Chat):
    await _tasks(linked, clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/tasks"))
    message = (await luis_chat.wait_messages(1))[0]
    lines = message.text.splitlines()
    assert lines[0] == "📋 Tus tareas (2):"
    assert "24/11 10:00 Enviar presupuesto" in lines[1] and "atrasada" in lines[1]  # Madrid time
    assert "25/11 16:00 Llamar a Juan — Juan Ruiz" in lines[2] and "atrasada" not in lines[2]
    assert "Visita" not in message.text and "De Marta" not in message.text
    assert len(message.reply_markup["inline_keyboard"]) == 2


async def test_done_and_reschedule_buttons(linked, clock, luis_chat: Chat, api):
    overdue, today = await _tasks(linked, clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/tasks"))
    message = (await luis_chat.wait_messages(1))[0]
    done, hour, tomorrow = message.reply_markup["inline_keyboard"][0]
    await luis_chat.feed(
        updates.callback(LUIS_CHAT, done["callback_data"], message_id=message.message_id)
    )
    assert (await Task.get(id=overdue.id)).is_done
    await eventually(lambda: "Enviar presupuesto" not in api.chat(LUIS_CHAT)[0].text)
    assert "(1)" in api.chat(LUIS_CHAT)[0].text  # the list was edited in place

    edited = api.chat(LUIS_CHAT)[0]
    _, plus_hour, _ = edited.reply_markup["inline_keyboard"][0]
    await luis_chat.feed(
        updates.callback(LUIS_CHAT, plus_hour["callback_data"], message_id=edited.message_id)
    )
    assert (await Task.get(id=today.id)).due_at == _at(25, 16)
    _, _, to_tomorrow = edited.reply_markup["inline_keyboard"][0]
    await luis_chat.feed(
        updates.callback(LUIS_CHAT, to_tomorrow["callback_data"], message_id=edited.message_id)
    )
    assert (await Task.get(id=today.id)).due_at == _at(26, 16)
    await eventually(lambda: "No tienes tareas" in api.chat(LUIS_CHAT)[0].text)


async def test_find_and_note(linked, clock, luis_chat: Chat):
    world = linked
    client = await create_client(
        world.luis,
        ClientInput(name="Juan Ruiz", phones=["611222333"], company_name="Ruiz Obras"),
        clock=clock,
    )
    await create_lead(world.luis, LeadInput(name="Juana Ruiz", phones=["699111222"]), clock=clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/find ruiz"))
    found = await luis_chat.last_text(1)
    assert "Juan Ruiz · Ruiz Obras (cliente) — +34611222333" in found
    assert "Juana Ruiz (lead) — +34699111222" in found
    await luis_chat.feed(updates.message(LUIS_CHAT, "/note ruiz llamar mañana"))
    assert await luis_chat.last_text(2) == "Hay varios que coinciden con «ruiz». ¿Cuál?"
    await luis_chat.feed(updates.message(LUIS_CHAT, "/note 611222333 llamar mañana"))
    assert "Nota guardada en Juan Ruiz" in await luis_chat.last_text(3)
    assert await Note.filter(client_id=client.id, text="llamar mañana").exists()
    await luis_chat.feed(updates.message(LUIS_CHAT, "/find nadie"))
    assert "No encuentro nada" in await luis_chat.last_text(4)


async def test_an_agent_does_not_find_a_colleagues_client(linked, clock, luis_chat: Chat):
    world = linked
    await create_client(
        world.marta, ClientInput(name="Secreto SA", phones=["622333444"]), clock=clock
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "/find secreto"))
    assert "No encuentro nada" in await luis_chat.last_text(1)


async def test_tasks_says_how_many_more_there_are_beyond_ten(linked, clock, luis_chat: Chat, api):
    for minute in range(13):
        await create_task(
            linked.luis,
            TaskInput(
                title=f"Llamada {minute:02d}", due_at=_at(25, 12) + timedelta(minutes=minute)
            ),
            clock=clock,
        )
    await luis_chat.feed(updates.message(LUIS_CHAT, "/tasks"))
    message = (await luis_chat.wait_messages(1))[0]
    lines = message.text.splitlines()
    assert lines[0] == "📋 Tus tareas (13):"
    assert len([line for line in lines if line.startswith("• ")]) == 10
    assert "Llamada 09" in message.text and "Llamada 10" not in message.text
    assert lines[-1] == "… y 3 más. La lista de tareas del panel las muestra todas."
    assert len(message.reply_markup["inline_keyboard"]) == 10

    await User.filter(id=linked.luis.id).update(language="en")
    done = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
    await luis_chat.feed(updates.callback(LUIS_CHAT, done, message_id=message.message_id))
    await eventually(lambda: api.chat(LUIS_CHAT)[0].edits == 1)
    edited = api.chat(LUIS_CHAT)[0].text
    assert edited.startswith("📋 Your tasks (12):")
    assert edited.splitlines()[-1] == "… and 2 more. The task list in the panel shows them all."
