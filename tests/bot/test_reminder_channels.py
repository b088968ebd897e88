"""T3: a task reminder reaches each channel once: Telegram for a linked chat, the panel always."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.delivery import TelegramOutbox
from bot.reminders import send_due_reminders
from models.core.events import TaskReminderDue
from models.work.reminders import announce_due_reminders
from models.work.tasks import TaskInput, create_task
from tests.bot.conftest import LUIS_CHAT, eventually, link

DUE = datetime(2026, 11, 25, 10, 45, tzinfo=UTC)


async def test_both_channels_once_each_and_the_panel_without_telegram(
    world, clock, hub, tg_outbox: TelegramOutbox, api
):
    await link(world.luis, LUIS_CHAT, clock)  # Marta has no Telegram
    await create_task(
        world.ana,
        TaskInput(title="Demo Pons", due_at=DUE, assignee_ids=[world.luis.id, world.marta.id]),
        clock=clock,
    )
    panel: list[TaskReminderDue] = []

    async def keep(event: TaskReminderDue) -> None:
        panel.append(event)

    hub.subscribe("test-panel", keep, TaskReminderDue)
    clock.set(DUE - timedelta(minutes=15))
    counts = []
    for _run in range(2):  # the scheduler's next minute repeats nothing on either channel
        # The panel runs first: its mark on the task must not hold Telegram back.
        counts.append(
            (await announce_due_reminders(clock, hub), await send_due_reminders(clock, tg_outbox))
        )
        clock.set(clock.now() + timedelta(minutes=1))
    await hub.drain()
    assert counts == [(2, 1), (0, 0)]
    assert sorted(e.user_id for e in panel) == sorted([world.luis.id, world.marta.id])
    texts = [m.text for m in await eventually(lambda: api.chat(LUIS_CHAT))]
    assert texts == ["⏰ En 15 min: Demo Pons (11:45)"]
