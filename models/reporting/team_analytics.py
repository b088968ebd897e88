"""Analytics of the team (N6, N7): tasks open and done per user, and each user's deals, tasks
and calls side by side with the totals. Counted by the database, a row per user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.functions import Count

from models.core.sql import Sql
from models.people.permissions import has_right
from models.reporting.analytics import check_period, scope
from models.sales.deals import OPEN_STATUSES
from models.schema.calls import Call
from models.schema.deals import Deal
from models.schema.users import User


async def task_stats(
    user: User, start: datetime, end: datetime, now: datetime, *, user_id: int | None = None
) -> dict[str, Any]:
    """N6: per assignee, the tasks due in the period: still open (and of them overdue at `now`)
    and done."""
    check_period(user, start, end)
    who = scope(user, "tasks.view_all", user_id)
    sql = Sql()
    done, overdue_before = sql.p(True), sql.p(now)
    lo, hi = sql.p(start), sql.p(end)
    mine = f" AND ta.user_id = {sql.p(who)}" if who is not None else ""
    rows = await sql.rows(
        "SELECT ta.user_id AS user_id, COUNT(*) AS total, "
        f"SUM(CASE WHEN t.is_done = {done} THEN 1 ELSE 0 END) AS done, "
        f"SUM(CASE WHEN t.is_done <> {sql.p(True)} AND t.due_at < {overdue_before} "
        "THEN 1 ELSE 0 END) AS overdue "
        "FROM task t JOIN task_assignee ta ON ta.task_id = t.id "
        f"WHERE t.due_at >= {lo} AND t.due_at < {hi}{mine} GROUP BY ta.user_id"
    )
    names = {u.id: (u.username, str(u)) for u in await User.all()}
    users: list[dict[str, Any]] = []
    for row in rows:
        total, n_done = int(row["total"]), int(row["done"] or 0)
        users.append(
            {
                "user_id": row["user_id"],
                "username": names.get(row["user_id"], ("", ""))[0],
                "name": names.get(row["user_id"], ("", ""))[1],
                "open": total - n_done,
                "done": n_done,
                "overdue": int(row["overdue"] or 0),
            }
        )
    users.sort(key=lambda u: (-(u["open"] + u["done"]), u["username"]))
    return {
        "by_user": users,
        "open": sum(u["open"] for u in users),
        "done": sum(u["done"] for u in users),
        "overdue": sum(u["overdue"] for u in users),
    }


async def team_stats(
    user: User, start: datetime, end: datetime, now: datetime
) -> dict[str, object]:
    """N7: per active user, deals in progress now, deals won in the period, tasks of the period
    (open and done) and calls of the period, with the totals. Without both deals.view_all and
    calls.view_all a user sees only their own row."""
    check_period(user, start, end)
    everyone = has_right(user, "deals.view_all") and has_right(user, "calls.view_all")
    people = await User.filter(is_active=True).order_by("full_name", "username")
    if not everyone:
        people = [p for p in people if p.id == user.id]
    ids = [p.id for p in people]
    in_progress = dict(
        await Deal.filter(responsible_id__in=ids, status__in=OPEN_STATUSES)
        .annotate(n=Count("id"))
        .group_by("responsible_id")
        .values_list("responsible_id", "n")
    )
    won = dict(
        await Deal.filter(
            responsible_id__in=ids, status="won", closed_at__gte=start, closed_at__lt=end
        )
        .annotate(n=Count("id"))
        .group_by("responsible_id")
        .values_list("responsible_id", "n")
    )
    calls = dict(
        await Call.filter(agent_id__in=ids, started_at__gte=start, started_at__lt=end)
        .annotate(n=Count("id"))
        .group_by("agent_id")
        .values_list("agent_id", "n")
    )
    tasks = {
        row["user_id"]: row
        for row in (await task_stats(user, start, end, now, user_id=None if everyone else user.id))[
            "by_user"
        ]
    }
    rows = [
        {
            "user_id": p.id,
            "username": p.username,
            "name": str(p),
            "deals_in_progress": in_progress.get(p.id, 0),
            "deals_won": won.get(p.id, 0),
            "tasks_open": tasks.get(p.id, {}).get("open", 0),
            "tasks_done": tasks.get(p.id, {}).get("done", 0),
            "calls": calls.get(p.id, 0),
        }
        for p in people
    ]
    keys = ("deals_in_progress", "deals_won", "tasks_open", "tasks_done", "calls")
    return {"by_user": rows, "totals": {k: sum(r[k] for r in rows) for k in keys}}
