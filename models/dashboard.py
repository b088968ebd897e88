"""The numbers of the dashboard widgets (D1), counted in the user's own week and time zone.

"Today" and "this week" are the user's: a week starts on their first weekday at midnight in
their time zone, and every range is turned into UTC before it meets the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tortoise.expressions import Q

from models.clock import Clock
from models.permissions import has_right
from models.schema.calls import Call
from models.schema.clients import Client
from models.schema.leads import Lead
from models.schema.tasks import Task
from models.schema.users import User

CURRENT_TASKS_SHOWN = 10


@dataclass(frozen=True)
class Periods:
    """[start, end) of the user's today and this week, in UTC."""

    today_start: datetime
    today_end: datetime
    week_start: datetime
    week_end: datetime


def user_zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def periods(user: User, now: datetime) -> Periods:
    zone = user_zone(user)
    local = now.astimezone(zone)
    day = local.date()
    week_day = day - timedelta(days=(day.weekday() - (user.first_weekday or 0)) % 7)

    def midnight(d) -> datetime:
        return datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC)

    return Periods(
        today_start=midnight(day),
        today_end=midnight(day + timedelta(days=1)),
        week_start=midnight(week_day),
        week_end=midnight(week_day + timedelta(days=7)),
    )


async def dashboard_numbers(user: User, clock: Clock) -> dict[str, object]:
    """Every figure of the dashboard for this user (D1)."""
    now = clock.now()
    p = periods(user, now)

    clients = Client.all()
    if not has_right(user, "clients.view_all"):
        clients = clients.filter(Q(responsible_id=user.id) | Q(responsible_id__isnull=True))
    leads = Lead.all()
    if not has_right(user, "leads.view_all"):
        leads = leads.filter(Q(responsible_id=user.id) | Q(responsible_id__isnull=True))
    my_tasks = Task.filter(assignees__id=user.id)
    week_tasks = my_tasks.filter(due_at__gte=p.week_start, due_at__lt=p.week_end)
    calls = Call.filter(agent_id=user.id)

    current = (
        await my_tasks.filter(is_done=False, due_at__gte=now, due_at__lt=p.today_end)
        .order_by("due_at", "id")
        .limit(CURRENT_TASKS_SHOWN)
    )
    return {
        "clients_total": await clients.count(),
        "clients_new_week": await clients.filter(created_at__gte=p.week_start).count(),
        "clients_new_today": await clients.filter(created_at__gte=p.today_start).count(),
        "leads_handled": await Lead.filter(responsible_id=user.id, status="open").count(),
        "leads_unhandled": await Lead.filter(responsible_id__isnull=True, status="open").count(),
        "tasks_week_done": await week_tasks.filter(is_done=True).count(),
        "tasks_week_total": await week_tasks.count(),
        "tasks_overdue": await my_tasks.filter(is_done=False, due_at__lt=now).count(),
        "tasks_current": await my_tasks.filter(
            is_done=False, due_at__gte=now, due_at__lt=p.today_end
        ).count(),
        "current_tasks": [
            {"id": t.id, "title": t.title, "kind": t.kind, "due_at": t.due_at} for t in current
        ],
        "calls_in_today": await calls.filter(direction="in", started_at__gte=p.today_start).count(),
        "calls_out_today": await calls.filter(
            direction="out", started_at__gte=p.today_start
        ).count(),
        "calls_in_week": await calls.filter(direction="in", started_at__gte=p.week_start).count(),
        "calls_out_week": await calls.filter(direction="out", started_at__gte=p.week_start).count(),
        "leads_new_today": await leads.filter(created_at__gte=p.today_start).count(),
        "leads_new_week": await leads.filter(created_at__gte=p.week_start).count(),
        "week_start": p.week_start,
        "today_start": p.today_start,
    }
