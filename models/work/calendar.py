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
    return result
