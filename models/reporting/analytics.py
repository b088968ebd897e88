"""Analytics (N1-N7): figures over a period [start, end) given in UTC.

Needs the "analytics.view" right. Each figure covers what the user may see: everything with
the matching "*.view_all" right (optionally narrowed to one user), otherwise the user's own
records. Every figure is counted by the database (GROUP BY), so a report reads a few rows per
user, hour or day whatever the size of the tables. Hours and days are the user's own, see
models.reporting.periods.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet

from models.core.errors import ValidationFailed, msg
from models.core.sql import Sql
from models.people.permissions import LEADS, has_right, require, visible
from models.reporting.periods import as_date, offset_spans, user_zone
from models.sales.deals import FINAL_STATUSES, OPEN_STATUSES, STATUSES
from models.schema.clients import Client
from models.schema.company import SourceTag
from models.schema.deals import Deal
from models.schema.leads import Lead
from models.schema.users import User

BUCKETS = ("day", "week", "month")
FUNNEL = (*OPEN_STATUSES, "won")
MOST_ACTIVE = 5


def check_period(user: User, start: datetime, end: datetime) -> None:
    require(user, "analytics.view")
    if end <= start:
        raise ValidationFailed({"end": msg("the end of the period must be after its start")})


def scope(user: User, right: str, user_id: int | None = None) -> int | None:
    """Whose records a figure counts: None for everyone, else one user's id (own only
    without the view_all right, whatever user was asked for)."""
    return user_id if has_right(user, right) else user.id


def _decimal(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def fold(days: dict[date, int], user: User, bucket: str) -> list[tuple[date, int]]:
    """Day counts summed into the user's weeks (from their first weekday) or months."""
    if bucket not in BUCKETS:
        raise ValidationFailed(
            {"bucket": msg("must be one of: %(choices)s", choices=", ".join(BUCKETS))}
        )
    out: dict[date, int] = defaultdict(int)
    for day, n in days.items():
        if bucket == "week":
            day = day - timedelta(days=(day.weekday() - (user.first_weekday or 0)) % 7)
        elif bucket == "month":
            day = day.replace(day=1)
        out[day] += n
    return sorted(out.items())


async def deal_stats(
    user: User, start: datetime, end: datetime, *, user_id: int | None = None
) -> dict[str, object]:
    """N1: deals created in the period by status and as a funnel (how many reached each stage,
    cancelled ones left out), revenue of deals won in the period per currency, conversion
    (won / closed in the period) and the average days from creation to won."""
    check_period(user, start, end)
    who = scope(user, "deals.view_all", user_id)
    deals = Deal.all() if who is None else Deal.filter(responsible_id=who)
    created = deals.filter(created_at__gte=start, created_at__lt=end)
    by_status = dict(
        await created.annotate(n=Count("id")).group_by("status").values_list("status", "n")
    )
    closed = deals.filter(closed_at__gte=start, closed_at__lt=end, status__in=FINAL_STATUSES)
    revenue_rows = (
        await closed.filter(status="won")
        .annotate(total=Sum("amount"), n=Count("id"))
        .group_by("currency")
        .values_list("currency", "total", "n")
    )
    won = sum(n for _, _, n in revenue_rows)
    cancelled = await closed.filter(status="cancelled").count()
    sql = Sql()
    mine = f" AND responsible_id = {sql.p(who)}" if who is not None else ""
    lo, hi, status = sql.p(start), sql.p(end), sql.p("won")
    average = (
        await sql.rows(
            f"SELECT AVG({sql.days_between('created_at', 'closed_at')}) AS days FROM deal "
            f"WHERE closed_at >= {lo} AND closed_at < {hi} AND status = {status}{mine}"
        )
    )[0]["days"]
    funnel = []
    for index, stage in enumerate(FUNNEL):
        funnel.append((stage, sum(by_status.get(s, 0) for s in FUNNEL[index:])))
    return {
        "created": sum(by_status.values()),
        "by_status": [(status, by_status.get(status, 0)) for status in STATUSES],
        "funnel": funnel,
        "revenue": {currency: _decimal(total) for currency, total, _ in revenue_rows},
        "won": won,
        "cancelled": cancelled,
        "conversion": round(won / (won + cancelled), 4) if won + cancelled else None,
        "average_days_to_win": round(float(average), 1) if average is not None else None,
    }


async def _names() -> dict[int | None, tuple[str, str]]:
    return {u.id: (u.username, str(u)) for u in await User.all()}


async def call_stats(
    user: User, start: datetime, end: datetime, *, user_id: int | None = None
) -> dict[str, object]:
    """N2: calls per user (in/out, answered, missed, talk and wait time), per direction and
    result, per hour of the user's day, and the most active users."""
    check_period(user, start, end)
    who = scope(user, "calls.view_all", user_id)
    # One pass over the period's calls gives every figure: grouped by the user's hour, agent,
    # direction and result (a few hundred rows), then summed here along each axis.
    rows = []
    by_hour = [0] * 24
    for span_start, span_end, minutes in offset_spans(user_zone(user), start, end):
        sql = Sql()
        hour = sql.local_hour("started_at", minutes)
        lo, hi = sql.p(span_start), sql.p(span_end)
        mine = f" AND agent_id = {sql.p(who)}" if who is not None else ""
        for row in await sql.rows(
            f"SELECT {hour} AS h, agent_id, direction, result, COUNT(*) AS n, "
            "SUM(talk_seconds) AS talk, SUM(wait_seconds) AS wait FROM call "
            f"WHERE started_at >= {lo} AND started_at < {hi}{mine} GROUP BY 1, 2, 3, 4"
        ):
            n = int(row["n"])
            by_hour[int(row["h"])] += n
            rows.append(
                (row["agent_id"], row["direction"], row["result"], n, row["talk"], row["wait"])
            )
    names = await _names()
    per_user: dict[int | None, dict[str, int]] = {}
    per_kind: dict[tuple[str, str], dict[str, int]] = {}
    for agent_id, direction, result, n, talk, wait in rows:
        figures = per_user.setdefault(
            agent_id,
            {
                "total": 0,
                "in": 0,
                "out": 0,
                "answered": 0,
                "missed": 0,
                "talk_seconds": 0,
                "wait_seconds": 0,
            },
        )
        figures["total"] += n
        if direction in ("in", "out"):
            figures[direction] += n
        if result == "answered":
            figures["answered"] += n
        elif direction == "in":
            figures["missed"] += n
        figures["talk_seconds"] += int(talk or 0)
        figures["wait_seconds"] += int(wait or 0)
        kind = per_kind.setdefault(
            (direction, result), {"total": 0, "talk_seconds": 0, "wait_seconds": 0}
        )
        kind["total"] += n
        kind["talk_seconds"] += int(talk or 0)
        kind["wait_seconds"] += int(wait or 0)
    users: list[dict[str, Any]] = [
        {
            "user_id": agent_id,
            "username": names.get(agent_id, ("", ""))[0],
            "name": names.get(agent_id, ("", ""))[1],
            **f,
        }
        for agent_id, f in per_user.items()
    ]
    users.sort(key=lambda u: (-u["total"], u["username"]))
    return {
        "total": sum(u["total"] for u in users),
        "talk_seconds": sum(u["talk_seconds"] for u in users),
        "wait_seconds": sum(u["wait_seconds"] for u in users),
        "by_user": users,
        "by_kind": [{"direction": d, "result": r, **f} for (d, r), f in sorted(per_kind.items())],
        "by_hour": by_hour,
        "most_active": [u for u in users if u["user_id"]][:MOST_ACTIVE],
    }


async def source_stats(
    user: User, start: datetime, end: datetime, *, user_id: int | None = None
) -> dict[str, object]:
    """N3: leads, clients and deals created in the period per source tag (the tracking number
    called), and leads per UTM source and campaign."""
    check_period(user, start, end)
    period = {"created_at__gte": start, "created_at__lt": end}
    tags = dict(await SourceTag.all().values_list("id", "name"))
    figures: dict[str, dict[str, int]] = defaultdict(lambda: {"leads": 0, "clients": 0, "deals": 0})
    for key, model, right in (
        ("leads", Lead, "leads.view_all"),
        ("clients", Client, "clients.view_all"),
        ("deals", Deal, "deals.view_all"),
    ):
        query = model.filter(**period)
        if model is Lead:
            query = _visible_leads(user, user_id, query)
        elif (who := scope(user, right, user_id)) is not None:
            query = query.filter(responsible_id=who)
        grouped = (
            await query.annotate(n=Count("id"))
            .group_by("source_tag_id")
            .values_list("source_tag_id", "n")
        )
        for tag_id, n in grouped:
            figures[tags.get(tag_id, "") if tag_id else ""][key] += n
    leads = _visible_leads(user, user_id, Lead.filter(**period).exclude(utm_source=""))
    utm = (
        await leads.annotate(n=Count("id"))
        .group_by("utm_source", "utm_campaign")
        .values_list("utm_source", "utm_campaign", "n")
    )
    return {
        "by_tag": sorted(figures.items(), key=lambda item: (item[0] == "", item[0])),
        "by_utm": [{"utm_source": s, "utm_campaign": c, "leads": n} for s, c, n in sorted(utm)],
    }


def _visible_leads(user: User, user_id: int | None, leads: QuerySet[Any]) -> QuerySet[Any]:
    """The same leads as _lead_filter, for an ORM query."""
    if has_right(user, "leads.view_all"):
        return leads if user_id is None else leads.filter(responsible_id=user_id)
    return visible(user, LEADS, leads)


def _lead_filter(user: User, user_id: int | None, sql: Sql) -> str:
    """Agents see their own leads and the unhandled ones waiting for anybody."""
    if has_right(user, "leads.view_all"):
        return f" AND responsible_id = {sql.p(user_id)}" if user_id is not None else ""
    return f" AND (responsible_id = {sql.p(user.id)} OR responsible_id IS NULL)"


async def lead_stats(
    user: User, start: datetime, end: datetime, *, user_id: int | None = None
) -> dict[str, object]:
    """N4: leads created per day of the period and how many of them are still unhandled (no
    responsible, open), by source, and how many were converted into clients."""
    check_period(user, start, end)
    days: dict[date, list[int]] = {}
    for span_start, span_end, minutes in offset_spans(user_zone(user), start, end):
        sql = Sql()
        day = sql.local_day("created_at", minutes)
        unhandled, converted = sql.p("open"), sql.p("converted")
        lo, hi = sql.p(span_start), sql.p(span_end)
        visible = _lead_filter(user, user_id, sql)
        for row in await sql.rows(
            f"SELECT {day} AS d, COUNT(*) AS n, "
            "SUM(CASE WHEN responsible_id IS NULL "
            f"AND status = {unhandled} THEN 1 ELSE 0 END) AS u, "
            f"SUM(CASE WHEN status = {converted} THEN 1 ELSE 0 END) AS c "
            f"FROM lead WHERE created_at >= {lo} AND created_at < {hi}{visible} GROUP BY 1"
        ):
            key = as_date(row["d"])
            old = days.get(key, [0, 0, 0])
            days[key] = [
                old[0] + int(row["n"]),
                old[1] + int(row["u"] or 0),
                old[2] + int(row["c"] or 0),
            ]
    leads = _visible_leads(user, user_id, Lead.filter(created_at__gte=start, created_at__lt=end))
    by_source = await leads.annotate(n=Count("id")).group_by("source").values_list("source", "n")
    created = sum(v[0] for v in days.values())
    n_converted = sum(v[2] for v in days.values())
    return {
        "created": created,
        "created_series": sorted((d, v[0]) for d, v in days.items()),
        "unhandled_series": sorted((d, v[1]) for d, v in days.items() if v[1]),
        "unhandled": sum(v[1] for v in days.values()),
        "unhandled_now": await Lead.filter(responsible_id__isnull=True, status="open").count(),
        "by_source": sorted(by_source, key=lambda kv: (-kv[1], kv[0])),
        "converted": n_converted,
        "conversion": round(n_converted / created, 4) if created else None,
    }


async def client_growth(
    user: User,
    start: datetime,
    end: datetime,
    *,
    bucket: str = "day",
    user_id: int | None = None,
) -> dict[str, object]:
    """N5: new clients per day, week or month of the period, all or of one responsible user."""
    check_period(user, start, end)
    if bucket not in BUCKETS:
        raise ValidationFailed(
            {"bucket": msg("must be one of: %(choices)s", choices=", ".join(BUCKETS))}
        )
    who = scope(user, "clients.view_all", user_id)
    days: dict[date, int] = defaultdict(int)
    for span_start, span_end, minutes in offset_spans(user_zone(user), start, end):
        sql = Sql()
        day = sql.local_day("created_at", minutes)
        lo, hi = sql.p(span_start), sql.p(span_end)
        mine = f" AND responsible_id = {sql.p(who)}" if who is not None else ""
        for row in await sql.rows(
            f"SELECT {day} AS d, COUNT(*) AS n FROM client "
            f"WHERE created_at >= {lo} AND created_at < {hi}{mine} GROUP BY 1"
        ):
            days[as_date(row["d"])] += int(row["n"])
    total = Client.filter(created_at__lt=end)
    if who is not None:
        total = total.filter(responsible_id=who)
    return {
        "new": sum(days.values()),
        "series": fold(days, user, bucket),
        "total_at_end": await total.count(),
    }
