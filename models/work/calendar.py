"""The calendar's days (K1): the first tasks of each day and how many more there are.

An admin's month can hold tens of thousands of tasks (everyone's): the grid shows the
first few of each day by due time and a "+N more" link to that day's task list, and loads
only the tasks it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import cast

from models.schema.tasks import Task
from models.schema.users import User
from models.work.tasks import calendar_query

MINUTES_A_DAY = 24 * 60
MAX_ALL_DAY_MINUTES = 24 * 60 * 31  # the longest task (models/work/tasks.py)


@dataclass
class CalendarDay:
    tasks: list[Task] = field(default_factory=list)
    more: int = 0  # tasks of the day not shown


async def calendar_days(
    user: User,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    *,
    per_day: int,
    user_ids: list[int] | None = None,
) -> dict[date, CalendarDay]:
    """Per local day of [start, end): the first `per_day` tasks by due time, the rest counted.

    Two index ranges per day (a count and the first tasks): the database does the counting,
    so a month with tens of thousands of tasks costs no Python per task.
    """
    counted: list[tuple[date, int, list[int]]] = []
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day < last:
        following = day + timedelta(days=1)
        day_start = datetime.combine(day, time(0), zone)
        day_end = datetime.combine(following, time(0), zone)
        query = calendar_query(user, max(day_start, start), min(day_end, end), user_ids)
        total = await query.count()
        if total:
            first = await query.order_by("due_at", "id").limit(per_day).values_list("id", flat=True)
            counted.append((day, total, cast(list[int], first)))
        day = following
    wanted = [task_id for _, _, ids in counted for task_id in ids]
    tasks = {
        t.id: t
        for t in await Task.filter(id__in=wanted).prefetch_related("assignees", "client", "lead")
    }
    result: dict[date, CalendarDay] = {}
    for day, total, ids in counted:
        shown = [tasks[i] for i in ids if i in tasks]
        result[day] = CalendarDay(shown, total - len(shown))
    await _add_later_days(result, user, start, end, zone, user_ids)
    return result


async def _add_later_days(
    result: dict[date, CalendarDay],
    user: User,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    user_ids: list[int] | None,
) -> None:
    """An all-day task of several days shows on each of them, first in the day (it is due on
    its first day only, where the counting above found it)."""
    first_day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    longest = timedelta(minutes=MAX_ALL_DAY_MINUTES)
    spans = (
        await calendar_query(user, start - longest, end, user_ids)
        .filter(all_day=True, duration_minutes__gt=MINUTES_A_DAY)
        .prefetch_related("assignees", "client", "lead")
    )
    for task in spans:
        begins = task.due_at.astimezone(zone).date()
        for offset in range(1, -(-task.duration_minutes // MINUTES_A_DAY)):
            day = begins + timedelta(days=offset)
            if first_day <= day < last:
                result.setdefault(day, CalendarDay()).tasks.insert(0, task)
