"""The calendar shows each day's first tasks and counts the rest (K1 at scale)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from models.work import tasks as task_ops
from models.work.calendar import calendar_days
from models.work.tasks import TaskInput

MADRID = ZoneInfo("Europe/Madrid")
WEEK_START = datetime(2026, 11, 23, tzinfo=MADRID)


async def test_a_busy_day_shows_its_first_tasks_and_counts_the_rest(world, clock):
    base = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    created = []
    for i in range(7):  # 09:00 ... 15:00 in Madrid, created out of order
        due = base + timedelta(hours=(i * 3) % 7)
        author = world.luis if i % 2 else world.marta
        task = await task_ops.create_task(author, TaskInput(title=f"T{i}", due_at=due), clock=clock)
        created.append((due, task.id, author.id))
    # 23:30 UTC on the 25th is already the 26th in Madrid: it belongs to the next cell.
    late = await task_ops.create_task(
        world.luis,
        TaskInput(title="Late", due_at=datetime(2026, 11, 25, 23, 30, tzinfo=UTC)),
        clock=clock,
    )

    days = await calendar_days(
        world.ana, WEEK_START, WEEK_START + timedelta(days=7), MADRID, per_day=4
    )
    by_time = [task_id for _, task_id, _ in sorted(created)]
    wednesday, thursday = days[datetime(2026, 11, 25).date()], days[datetime(2026, 11, 26).date()]
    assert [t.id for t in wednesday.tasks] == by_time[:4]
    assert wednesday.more == 3
    assert [t.id for t in thursday.tasks] == [late.id] and thursday.more == 0
    assert all(t.assignees for t in wednesday.tasks)  # loaded with what the cell shows

    own = await calendar_days(
        world.luis, WEEK_START, WEEK_START + timedelta(days=7), MADRID, per_day=10
    )
    luis_ids = [task_id for _, task_id, author in sorted(created) if author == world.luis.id]
    assert [t.id for t in own[datetime(2026, 11, 25).date()].tasks] == luis_ids


async def test_an_all_day_task_of_several_days_shows_on_each_of_them(world, clock):
    # A three-day fair from Saturday the 21st (before the week shown) to Monday the 23rd, and
    # one from Sunday the 29th (the week's last day) into the next week.
    for title, first in (("Feria", 21), ("Congreso", 29)):
        await task_ops.create_task(
            world.luis,
            TaskInput(
                title=title,
                due_at=datetime(2026, 11, first, tzinfo=MADRID),
                all_day=True,
                duration_minutes=3 * 1440,
            ),
            clock=clock,
        )
    days = await calendar_days(
        world.luis, WEEK_START, WEEK_START + timedelta(days=7), MADRID, per_day=4
    )
    shown = {day.day: [t.title for t in cell.tasks] for day, cell in days.items()}
    assert shown == {23: ["Feria"], 29: ["Congreso"]}
