"""The calendar of tasks (K1): month and week grids, in the user's time zone and week start."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from aiohttp import web

from models.people import team
from models.people.permissions import has_right
from models.work import tasks as task_ops
from models.work.calendar import calendar_days
from web.templating import formatter, render
from web.views.common import current_user, int_param, now

# Tasks shown in a day's cell; the others are counted behind a link to that day's task list.
PER_DAY = {"month": 4, "week": 12}


def _first_of_week(day: date, first_weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


async def calendar_page(request: web.Request) -> web.Response:
    user = current_user(request)
    fmt = formatter(request)
    view = "week" if request.query.get("view") == "week" else "month"
    today = fmt.local(now(request)).date()
    try:
        anchor = (
            date.fromisoformat(request.query.get("date", ""))
            if request.query.get("date")
            else today
        )
    except ValueError:
        anchor = today
    first_weekday = user.first_weekday or 0
    if view == "month":
        month_start = anchor.replace(day=1)
        start = _first_of_week(month_start, first_weekday)
        next_month = (month_start + timedelta(days=32)).replace(day=1)
        weeks = ((next_month - start).days + 6) // 7
        end = start + timedelta(days=weeks * 7)
        prev_anchor = (month_start - timedelta(days=1)).replace(day=1)
        next_anchor = next_month
        title = f"{fmt.month_name(month_start.month)} {month_start.year}"
    else:
        start = _first_of_week(anchor, first_weekday)
        end = start + timedelta(days=7)
        prev_anchor, next_anchor = start - timedelta(days=7), end
        title = (
            f"{fmt.date(datetime.combine(start, time(12), fmt.tz))} – "
            f"{fmt.date(datetime.combine(end - timedelta(days=1), time(12), fmt.tz))}"
        )
    who = int_param(request.query.get("user"))
    can_all = has_right(user, "tasks.view_all")
    user_ids = [who] if who else None
    days = await calendar_days(
        user,
        datetime.combine(start, time(0), fmt.tz),
        datetime.combine(end, time(0), fmt.tz),
        fmt.tz,
        per_day=PER_DAY[view],
        user_ids=user_ids,
    )
    weeks_grid = []
    day = start
    while day < end:
        weeks_grid.append([day + timedelta(days=i) for i in range(7)])
        day += timedelta(days=7)
    context = {
        "view": view,
        "title": title,
        "weeks": weeks_grid,
        "days": days,
        "more_scope": "all" if can_all else "mine",
        "today": today,
        "month": anchor.month,
        "anchor": anchor,
        "prev": prev_anchor.isoformat(),
        "next": next_anchor.isoformat(),
        "weekdays": fmt.weekday_names(first_weekday),
        "users": await team.roster() if can_all else [],
        "who": who,
        "now": now(request),
        "is_overdue": task_ops.is_overdue,
        "can_all": can_all,
    }
    return render(request, "calendar.html", context)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/calendar", calendar_page)
