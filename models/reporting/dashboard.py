"""The numbers of the dashboard widgets (D1), counted in the user's own week and time zone.

"Today" and "this week" are the user's: a week starts on their first weekday at midnight in
their time zone, and every range is turned into UTC before it meets the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.contacts.tallies import client_total
from models.core.clock import Clock
from models.core.sql import Sql
from models.people.permissions import CLIENTS, LEADS, has_right, visible
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

    def midnight(d: date) -> datetime:
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
    client_scope: list[int | None] | None = None
    if not has_right(user, "clients.view_all"):
        clients = visible(user, CLIENTS, clients)
        client_scope = [user.id, None]
    leads = visible(user, LEADS, Lead.all())
    my_tasks = Task.filter(assignees__id=user.id)

    current = (
        await my_tasks.filter(is_done=False, due_at__gte=now, due_at__lt=p.today_end)
        .order_by("due_at", "id")
        .limit(CURRENT_TASKS_SHOWN)
    )
    return {
        "clients_total": await client_total(responsible_ids=client_scope),
        "clients_new_week": await clients.filter(created_at__gte=p.week_start).count(),
        "clients_new_today": await clients.filter(created_at__gte=p.today_start).count(),
        "leads_handled": await Lead.filter(responsible_id=user.id, status="open").count(),
        "leads_unhandled": await Lead.filter(responsible_id__isnull=True, status="open").count(),
        **await _task_counts(user, now, p),
        "current_tasks": [
            {"id": t.id, "title": t.title, "kind": t.kind, "due_at": t.due_at} for t in current
        ],
        **await _call_counts(user, p),
        "leads_new_today": await leads.filter(created_at__gte=p.today_start).count(),
        "leads_new_week": await leads.filter(created_at__gte=p.week_start).count(),
        "week_start": p.week_start,
        "today_start": p.today_start,
    }


async def _task_counts(user: User, now: datetime, p: Periods) -> dict[str, int]:
    """The four task figures in one pass over the user's assignments.

    Written in SQL so that it starts from the user's rows of task_assignee (an index range)
    instead of the ORM's outer join, which the planner walks from the whole task table.
    """
    sql = Sql()
    week = f"t.due_at >= {sql.p(p.week_start)} AND t.due_at < {sql.p(p.week_end)}"
    overdue = f"NOT t.is_done AND t.due_at < {sql.p(now)}"
    current = f"NOT t.is_done AND t.due_at >= {sql.p(now)} AND t.due_at < {sql.p(p.today_end)}"
    rows = await sql.rows(
        "SELECT "
        f"COUNT(CASE WHEN {week} AND t.is_done THEN 1 END) AS tasks_week_done, "
        f"COUNT(CASE WHEN {week} THEN 1 END) AS tasks_week_total, "
        f"COUNT(CASE WHEN {overdue} THEN 1 END) AS tasks_overdue, "
        f"COUNT(CASE WHEN {current} THEN 1 END) AS tasks_current "
        'FROM "task" t JOIN "task_assignee" a ON a.task_id = t.id '
        f"WHERE a.user_id = {sql.p(user.id)}"
    )
    return {key: int(value or 0) for key, value in rows[0].items()}


async def _call_counts(user: User, p: Periods) -> dict[str, int]:
    """The user's calls in and out, today and this week, in one range of their calls."""
    sql = Sql()
    today = f"c.started_at >= {sql.p(p.today_start)}"
    rows = await sql.rows(
        "SELECT "
        f"COUNT(CASE WHEN c.direction = 'in' AND {today} THEN 1 END) AS calls_in_today, "
        f"COUNT(CASE WHEN c.direction = 'out' AND {today} THEN 1 END) AS calls_out_today, "
        "COUNT(CASE WHEN c.direction = 'in' THEN 1 END) AS calls_in_week, "
        "COUNT(CASE WHEN c.direction = 'out' THEN 1 END) AS calls_out_week "
        'FROM "call" c '
        f"WHERE c.agent_id = {sql.p(user.id)} AND c.started_at >= {sql.p(p.week_start)}"
    )
    return {key: int(value or 0) for key, value in rows[0].items()}
