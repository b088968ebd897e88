"""B3 from chat: /tasks (today and overdue) with done/reschedule buttons, the /task dialog,
/find and /note."""

from __future__ import annotations

from datetime import UTC, datetime

from models.contacts.clients import ClientInput, create_client
from models.sales.leads import LeadInput, create_lead
from models.schema.activity import Note
from models.schema.tasks import Task
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


async def test_task_dialog_understands_manana_10(linked, clock, luis_chat: Chat):
    world = linked
    client = await create_client(
        world.luis, ClientInput(name="Ferretería Pons", phones=["933001122"]), clock=clock
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "/task"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "Llevar muestras"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "mañana 10:00"))
    assert "¿Para qué cliente" in await luis_chat.last_text(3)
    await luis_chat.feed(updates.message(LUIS_CHAT, "Pons"))
    assert (
        "Tarea creada: Llevar muestras, 26/11/2026 10:00 — Ferretería Pons"
        in await luis_chat.last_text(4)
    )
    task = await Task.get(title="Llevar muestras").prefetch_related("assignees")
    assert task.due_at == _at(26, 9)  # 10:00 in Madrid
    assert task.client_id == client.id
    assert [u.id for u in task.assignees] == [world.luis.id]


async def test_task_dialog_in_english_with_a_bad_date_then_friday(linked, clock, luis_chat: Chat):
    await luis_chat.feed(updates.message(LUIS_CHAT, "/task"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "Send the contract"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "whenever you like"))
    assert "No entiendo" in await luis_chat.last_text(3)
    await luis_chat.feed(updates.message(LUIS_CHAT, "friday 15:30"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "/skip"))
    assert "Tarea creada" in await luis_chat.last_text(5)
    task = await Task.get(title="Send the contract")
    assert task.due_at == _at(27, 14, 30)
    assert task.client_id is None


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
    assert "varios resultados" in await luis_chat.last_text(2)
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
