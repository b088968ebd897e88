"""Analytics (N1-N7): one page per report, a period selector in the user's calendar and a user
filter; each chart's numbers are also on the page as a table."""

from __future__ import annotations

from aiohttp import web

from models.core.errors import ValidationFailed
from models.people import team
from models.people.permissions import has_right, require
from models.reporting import analytics
from models.reporting import team_analytics as analytics_team
from models.reporting.periods import PERIODS, resolve_period
from models.sales.deals import STATUS_LABELS
from web.templating import render
from web.views.common import current_user, int_param, now

REPORTS = ("deals", "calls", "sources", "leads", "clients", "tasks", "team")
# The right that lets a user look at a colleague's figures in each report.
USER_FILTER_RIGHT = {
    "deals": "deals.view_all",
    "calls": "calls.view_all",
    "sources": "leads.view_all",
    "leads": "leads.view_all",
    "clients": "clients.view_all",
    "tasks": "tasks.view_all",
}


async def _figures(report: str, user, period, moment, user_id, bucket) -> dict[str, object]:
    start, end = period.start, period.end
    if report == "deals":
        return await analytics.deal_stats(user, start, end, user_id=user_id)
    if report == "calls":
        return await analytics.call_stats(user, start, end, user_id=user_id)
    if report == "sources":
        return await analytics.source_stats(user, start, end, user_id=user_id)
    if report == "leads":
        return await analytics.lead_stats(user, start, end, user_id=user_id)
    if report == "clients":
        return await analytics.client_growth(user, start, end, bucket=bucket, user_id=user_id)
    if report == "tasks":
        return await analytics_team.task_stats(user, start, end, moment, user_id=user_id)
    return await analytics_team.team_stats(user, start, end, moment)


async def analytics_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "analytics.view")
    report = request.match_info.get("report", "deals")
    if report not in REPORTS:
        raise web.HTTPNotFound()
    query = request.query
    moment = now(request)
    errors: dict[str, str] = {}
    name = query.get("period", "month")
    try:
        period = resolve_period(user, moment, name, query.get("from"), query.get("to"))
    except ValidationFailed as err:
        errors = err.fields
        period = resolve_period(user, moment, "month")
    bucket = query.get("bucket", "day")
    if bucket not in analytics.BUCKETS:
        bucket = "day"
    right = USER_FILTER_RIGHT.get(report)
    can_filter = right is not None and has_right(user, right)
    user_id = int_param(query.get("user")) if can_filter else None
    context = {
        "report": report,
        "reports": REPORTS,
        "periods": PERIODS,
        "period": period,
        "period_name": name if not errors else "month",
        "date_from": query.get("from", period.first_day.isoformat()),
        "date_to": query.get("to", period.last_day.isoformat()),
        "bucket": bucket,
        "errors": errors,
        "can_filter": can_filter,
        "users": await team.roster() if can_filter else [],
        "user_id": user_id,
        "data": await _figures(report, user, period, moment, user_id, bucket),
        "labels": STATUS_LABELS,
    }
    return render(request, f"analytics/{report}.html", context, status=422 if errors else 200)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/analytics", analytics_page)
    app.router.add_get("/analytics/{report}", analytics_page)
