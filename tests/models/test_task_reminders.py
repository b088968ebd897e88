"""T3: which task reminders are due (one rule for every channel) and the panel's, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from models.core.events import TaskReminderDue
from models.schema.users import User
from models.work import reminders
from models.work import tasks as task_ops
from models.work.tasks import TaskInput

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def _announced(clock, hub) -> list[TaskReminderDue]:
    """What one scheduler run publishes, as the panel's relay would receive it."""
    got: list[TaskReminderDue] = []

    async def keep(event: TaskReminderDue) -> None:
        got.append(event)

    sub = hub.subscribe("test-reminders", keep, TaskReminderDue)
    await reminders.announce_due_reminders(clock, hub)
    await hub.drain()
    await hub.unsubscribe(sub)
    return got


async def test_each_assignee_is_told_once_at_their_own_lead_time(world, clock, hub):
    await User.filter(id=world.marta.id).update(reminder_minutes=60)
    task = await task_ops.create_task(
        world.ana,
        TaskInput(title="Demo", due_at=NOON, assignee_ids=[world.luis.id, world.marta.id]),
        clock=clock,
    )
    await task_ops.create_task(
        world.ana,
        TaskInput(
            title="Quiet", due_at=NOON, remind_minutes_before=0, assignee_ids=[world.luis.id]
        ),
        clock=clock,
    )
    clock.set(NOON - timedelta(minutes=61))
    assert await _announced(clock, hub) == []
    clock.set(NOON - timedelta(minutes=60))  # Marta's hour before
    [marta] = await _announced(clock, hub)
    assert (marta.user_id, marta.task_id, marta.title, marta.minutes) == (
        world.marta.id,
        task.id,
        "Demo",
        60,
    )
    assert (marta.language, marta.time_zone, marta.due_at) == ("es", "Europe/Madrid", NOON)
    clock.set(NOON - timedelta(minutes=30))
    assert await _announced(clock, hub) == []  # nobody twice, nobody early
    clock.set(NOON - timedelta(minutes=15))  # Luis's default quarter
    assert [e.user_id for e in await _announced(clock, hub)] == [world.luis.id]
    clock.set(NOON - timedelta(minutes=14))
    assert await _announced(clock, hub) == []
    clock.set(NOON + timedelta(minutes=1))
    assert await _announced(clock, hub) == []  # due: never a late reminder


async def test_a_reminder_missed_by_the_scheduler_still_comes_before_the_due_time(
    world, clock, hub
):
    await task_ops.create_task(
        world.luis, TaskInput(title="Call", due_at=NOON, remind_minutes_before=15), clock=clock
    )
    clock.set(NOON - timedelta(minutes=3))  # the daemon was down at 11:45
    assert [e.title for e in await _announced(clock, hub)] == ["Call"]


async def test_two_schedulers_at_once_announce_a_reminder_once(world, clock, hub):
    await task_ops.create_task(
        world.luis, TaskInput(title="Call", due_at=NOON, remind_minutes_before=15), clock=clock
    )
    clock.set(NOON - timedelta(minutes=15))
    got: list[TaskReminderDue] = []

    async def keep(event: TaskReminderDue) -> None:
        got.append(event)

    hub.subscribe("test-reminders", keep, TaskReminderDue)
    # Both runs read the task before either marks it: the compare-and-set lets one through.
    counts = await asyncio.gather(
        reminders.announce_due_reminders(clock, hub), reminders.announce_due_reminders(clock, hub)
    )
    await hub.drain()
    assert sorted(counts) == [0, 1]
    assert [e.title for e in got] == ["Call"]


async def test_rescheduling_rearms_and_a_long_lead_time_is_honoured(world, clock, hub):
    task = await task_ops.create_task(
        world.luis,
        TaskInput(title="Renewal", due_at=NOON + timedelta(days=3), remind_minutes_before=3 * 1440),
        clock=clock,
    )
    clock.set(NOON)
    assert [e.task_id for e in await _announced(clock, hub)] == [task.id]
    await task_ops.reschedule_task(world.luis, task.id, NOON + timedelta(days=4))
    assert await _announced(clock, hub) == []
    clock.set(NOON + timedelta(days=1))
    assert [e.task_id for e in await _announced(clock, hub)] == [task.id]


async def test_a_page_opened_later_gets_the_recent_reminders_of_its_user_only(world, clock, hub):
    await task_ops.create_task(
        world.luis, TaskInput(title="Call", due_at=NOON, remind_minutes_before=15), clock=clock
    )
    done = await task_ops.create_task(
        world.luis, TaskInput(title="Done", due_at=NOON, remind_minutes_before=15), clock=clock
    )
    clock.set(NOON - timedelta(minutes=15))
    assert len(await _announced(clock, hub)) == 2
    await task_ops.complete_task(world.luis, done.id, clock=clock)
    clock.set(NOON + timedelta(hours=1))
    assert [e.title for e in await reminders.recent_reminders(world.luis, clock)] == ["Call"]
    assert await reminders.recent_reminders(world.marta, clock) == []
    clock.set(NOON + reminders.REPLAY_WINDOW)
    assert await reminders.recent_reminders(world.luis, clock) == []
