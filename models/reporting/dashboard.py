"""The numbers of the dashboard widgets (D1), each with the list page that shows what it counts.

A figure is counted with the very query its list page runs (`clients_matching`,
`leads_matching`, `tasks_matching`, `calls_matching`) and the same filters its link carries,
so "Overdue tasks 79" opens a list of 79 tasks. "Today" and "this week" are the user's: a week
starts on their first weekday at midnight in their time zone, and the days become UTC ranges
through `periods.local_days`, as the lists' own date filters do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from models.contacts.clients import clients_matching, list_clients
from models.core.clock import Clock
from models.reporting.periods import LocalDays, local_days, user_zone
from models.sales.leads import leads_matching
from models.schema.users import User
from models.telephony.call_history import CallFilter, calls_matching
from models.work.tasks import tasks_matching

CURRENT_TASKS_SHOWN = 10


@dataclass(frozen=True)
class Periods:
    """[start, end) of the user's today and this week, in UTC, and their local days."""

    today_start: datetime
    today_end: datetime
    week_start: datetime
    week_end: datetime
    today: date
    week_first: date


def periods(user: User, now: datetime) -> Periods:
    day = now.astimezone(user_zone(user)).date()
    week_first = day - timedelta(days=(day.weekday() - (user.first_weekday or 0)) % 7)
    today = _bounds(local_days(user, day, day))
    week = _bounds(local_days(user, week_first, week_first + timedelta(days=6)))
    return Periods(*today, *week, day, week_first)


def _bounds(days: LocalDays) -> tuple[datetime, datetime]:
    assert days.start is not None and days.end is not None  # both days given
    return days.start, days.end


def _link(path: str, **params: object) -> str:
    return f"{path}?{urlencode({k: str(v) for k, v in params.items()})}" if params else path


class _Figures:
    """The figures counted so far, each with the link to its list."""

    def __init__(self) -> None:
        self.numbers: dict[str, Any] = {}
        self.links: dict[str, str] = {}

    def add(self, key: str, count: int, link: str) -> None:
        self.numbers[key] = count
        self.links[key] = link


async def dashboard_numbers(user: User, clock: Clock) -> dict[str, Any]:
    """Every figure of the dashboard for this user (D1), and under "links" the page listing
    what each figure counts."""
    now = clock.now()
    p = periods(user, now)
    day = p.today.isoformat()
    today = {"from": day, "to": day}
    week = {"from": p.week_first.isoformat(), "to": (p.week_first + timedelta(days=6)).isoformat()}
    ranges = (
        ("today", p.today_start, p.today_end, today),
        ("week", p.week_start, p.week_end, week),
    )
    f = _Figures()

    # The total is kept by the database, and read the way the list page reads it.
    f.add("clients_total", (await list_clients(user, limit=1))[1], "/clients")
    for period, since, until, days in ranges:
        clients = await clients_matching(user, created_since=since, created_until=until)
        f.add(f"clients_new_{period}", await clients.count(), _link("/clients", **days))

    for key, view in (("leads_handled", "mine"), ("leads_unhandled", "unhandled")):
        leads = await leads_matching(user, view=view, status="open")
        f.add(key, await leads.count(), _link("/leads", view=view, status="open"))
    for period, since, until, days in ranges:
        leads = await leads_matching(user, view="all", created_since=since, created_until=until)
        link = _link("/leads", view="all", status="any", **days)
        f.add(f"leads_new_{period}", await leads.count(), link)

    task_figures: list[tuple[str, str, datetime | None, datetime | None, dict[str, str]]] = [
        ("tasks_week_done", "done", p.week_start, p.week_end, week),
        ("tasks_week_total", "any", p.week_start, p.week_end, week),
        ("tasks_overdue", "overdue", None, None, {}),
        ("tasks_current", "upcoming", p.today_start, p.today_end, today),
    ]
    for key, status, start, end, days in task_figures:
        tasks = tasks_matching(user, status=status, start=start, end=end, clock=clock)
        f.add(key, await tasks.count(), _link("/tasks", status=status, **days))
    current = tasks_matching(
        user, status="upcoming", start=p.today_start, end=p.today_end, clock=clock
    )
    f.numbers["current_tasks"] = [
        {"id": t.id, "title": t.title, "kind": t.kind, "due_at": t.due_at}
        for t in await current.order_by("due_at", "id").limit(CURRENT_TASKS_SHOWN)
    ]

    for period, since, until, days in ranges:
        for direction in ("in", "out"):
            mine = CallFilter(user_id=user.id, direction=direction, since=since, until=until)
            link = _link("/calls", user=user.id, direction=direction, **days)
            f.add(f"calls_{direction}_{period}", await calls_matching(user, mine).count(), link)

    return {**f.numbers, "week_start": p.week_start, "today_start": p.today_start, "links": f.links}
