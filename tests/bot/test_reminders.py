"""B4: reminders before a task is due (per-user lead time) and the daily digest."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.delivery import TelegramOutbox
from bot.reminders import send_daily_digests, send_due_reminders
from models.contacts.clients import ClientInput, create_client
from models.people.schedule import validate_schedule
from models.schema.users import User
from models.work.tasks import TaskInput, create_task
from tests.bot.conftest import LUIS_CHAT, MARTA_CHAT, eventually


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def test_reminder_once_at_the_users_lead_time(linked, clock, tg_outbox: TelegramOutbox, api):
    world = linked
    await User.filter(id=world.luis.id).update(reminder_minutes=30)
    client = await create_client(world.luis, ClientInput(name="Juan Ruiz"), clock=clock)
    await create_task(
        world.luis,
        TaskInput(title="Llamar a Juan", due_at=_at(25, 10, 45), client_id=client.id),
        clock=clock,
    )
    await create_task(
        world.marta, TaskInput(title="Demo", due_at=_at(25, 10, 45)), clock=clock
    )  # 15 min
    clock.set(_at(25, 10, 14))
    assert await send_due_reminders(clock, tg_outbox) == 0
    clock.set(_at(25, 10, 15))
    assert await send_due_reminders(clock, tg_outbox) == 1
    assert await send_due_reminders(clock, tg_outbox) == 0  # the next minute's run repeats nothing
    body = (await eventually(lambda: api.chat(LUIS_CHAT)))[0].text
    assert body == "⏰ En 30 min: Llamar a Juan (11:45) — Juan Ruiz"
    clock.set(_at(25, 10, 30))
    assert await send_due_reminders(clock, tg_outbox) == 1
    assert "Demo" in (await eventually(lambda: api.chat(MARTA_CHAT)))[0].text
    clock.set(_at(25, 10, 50))  # past due: no late reminder
    assert await send_due_reminders(clock, tg_outbox) == 0


async def test_digest_at_the_start_of_working_hours(linked, clock, tg_outbox: TelegramOutbox, api):
    world = linked
    await User.filter(id=world.luis.id).update(
        work_schedule=validate_schedule({"kind": "weekly", "days": {"2": [["08:00", "16:00"]]}}),
        language="en",
    )
    await create_task(world.luis, TaskInput(title="Visit Pons", due_at=_at(25, 11)), clock=clock)
    await create_task(world.luis, TaskInput(title="Old one", due_at=_at(24, 11)), clock=clock)
    clock.set(_at(25, 6, 55))  # 07:55 in Madrid, Wednesday
    assert await send_daily_digests(clock, tg_outbox) == 0
    clock.set(_at(25, 7, 2))
    assert await send_daily_digests(clock, tg_outbox) == 1
    clock.set(_at(25, 7, 3))
    assert await send_daily_digests(clock, tg_outbox) == 0
    digest = (await eventually(lambda: api.chat(LUIS_CHAT)))[0].text
    assert digest.startswith("☀️ Good morning, Luis Pérez.")
    assert "Tasks today: 1, overdue: 1" in digest
    assert "• 12:00 Visit Pons" in digest
    # Marta has no working hours: hers comes at 09:00 on weekdays.
    assert not api.chat(MARTA_CHAT)
    clock.set(_at(25, 8, 1))
    assert await send_daily_digests(clock, tg_outbox) == 1
    assert "Buenos días, Marta" in (await eventually(lambda: api.chat(MARTA_CHAT)))[0].text
