"""Analytics (N1-N5): figures over a period [start, end) given in UTC.

Needs the "analytics.view" right. Each figure covers what the user may see: everything with
the matching "*.view_all" right, otherwise the user's own records. Grouping by hour, day or
week is done in the user's time zone, so "9 o'clock" means their morning.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from tortoise.expressions import Q
from tortoise.functions import Count, Sum

from models.dashboard import user_zone
from models.deals import FINAL_STATUSES, STATUSES
from models.errors import ValidationFailed
from models.permissions import has_right, require
from models.schema.calls import Call
from models.schema.clients import Client
from models.schema.company import SourceTag
from models.schema.deals import Deal
from models.schema.leads import Lead
from models.schema.users import User

BUCKETS = ("day", "week", "month")


def _check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationFailed({"end": "the end of the period must be after its start"})


def _owned(user: User, query, right: str, column: str = "responsible_id"):
    return query if has_right(user, right) else query.filter(**{column: user.id})


def _bucket(value: datetime, user: User, bucket: str) -> date:
    day = value.astimezone(user_zone(user)).date()
    if bucket == "week":
        return day - timedelta(days=(day.weekday() - (user.first_weekday or 0)) % 7)
    if bucket == "month":
        return day.replace(day=1)
    return day


def _series(values: list[datetime], user: User, bucket: str) -> list[tuple[date, int]]:
    if bucket not in BUCKETS:
        raise ValidationFailed({"bucket": f"must be one of: {', '.join(BUCKETS)}"})
    counts = Counter(_bucket(v, user, bucket) for v in values)
    return sorted(counts.items())


def _decimal(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


async def deal_stats(user: User, start: datetime, end: datetime) -> dict[str, object]:
    """N1: deals created in the period by status (the funnel), revenue of deals won in the
    period per currency, conversion (won / closed) and the average days from creation to won."""
    require(user, "analytics.view")
    _check_period(start, end)
    deals = _owned(user, Deal.all(), "deals.view_all")
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
    won_times = await closed.filter(status="won").values_list("created_at", "closed_at")
    won = sum(n for _, _, n in revenue_rows)
    cancelled = await closed.filter(status="cancelled").count()
    days = [(c - o).total_seconds() / 86400 for o, c in won_times if o and c]
    return {
        "created": sum(by_status.values()),
        "funnel": [(status, by_status.get(status, 0)) for status in STATUSES],
        "revenue": {currency: _decimal(total) for currency, total, _ in revenue_rows},
        "won": won,
        "cancelled": cancelled,
        "conversion": round(won / (won + cancelled), 4) if won + cancelled else None,
        "average_days_to_win": round(sum(days) / len(days), 1) if days else None,
    }


async def call_stats(user: User, start: datetime, end: datetime) -> dict[str, object]:
    """N2: calls per user (in/out, answered, missed, talk time), per hour of day, most active."""
    require(user, "analytics.view")
    _check_period(start, end)
    calls = _owned(
        user, Call.filter(started_at__gte=start, started_at__lt=end), "calls.view_all", "agent_id"
    )
    rows = await calls.values_list("agent_id", "direction", "result", "talk_seconds", "started_at")
    per_user: dict[int | None, dict[str, int]] = defaultdict(
        lambda: {"in": 0, "out": 0, "answered": 0, "missed": 0, "talk_seconds": 0, "total": 0}
    )
    by_hour = [0] * 24
    zone = user_zone(user)
    for agent_id, direction, result, talk, started in rows:
        figures = per_user[agent_id]
        figures["total"] += 1
        if direction in ("in", "out"):
            figures[direction] += 1
        if result == "answered":
            figures["answered"] += 1
        elif direction == "in":
            figures["missed"] += 1
        figures["talk_seconds"] += talk or 0
        by_hour[started.astimezone(zone).hour] += 1
    names = dict(await User.filter(id__in=[a for a in per_user if a]).values_list("id", "username"))
    users = [
        {"user_id": agent_id, "username": names.get(agent_id, "") if agent_id else "", **figures}
        for agent_id, figures in per_user.items()
    ]
    users.sort(key=lambda u: (-u["total"], u["username"]))
    return {
        "total": len(rows),
        "talk_seconds": sum(u["talk_seconds"] for u in users),
        "by_user": users,
        "by_hour": by_hour,
        "most_active": [u for u in users if u["user_id"]][:5],
    }


async def source_stats(user: User, start: datetime, end: datetime) -> dict[str, object]:
    """N3: leads, clients and deals created in the period per source tag, and leads per UTM."""
    require(user, "analytics.view")
    _check_period(start, end)
    period = {"created_at__gte": start, "created_at__lt": end}
    tags = dict(await SourceTag.all().values_list("id", "name"))
    figures: dict[str, dict[str, int]] = defaultdict(lambda: {"leads": 0, "clients": 0, "deals": 0})
    for key, model, right in (
        ("leads", Lead, "leads.view_all"),
        ("clients", Client, "clients.view_all"),
        ("deals", Deal, "deals.view_all"),
    ):
        grouped = (
            await _owned(user, model.filter(**period), right)
            .annotate(n=Count("id"))
            .group_by("source_tag_id")
            .values_list("source_tag_id", "n")
        )
        for tag_id, n in grouped:
            figures[tags.get(tag_id, "") if tag_id else ""][key] += n
    utm = (
        await _owned(user, Lead.filter(**period).exclude(utm_source=""), "leads.view_all")
        .annotate(n=Count("id"))
        .group_by("utm_source", "utm_campaign")
        .values_list("utm_source", "utm_campaign", "n")
    )
    return {
        "by_tag": sorted(figures.items(), key=lambda item: (item[0] == "", item[0])),
        "by_utm": [{"utm_source": s, "utm_campaign": c, "leads": n} for s, c, n in utm],
    }


async def lead_stats(
    user: User, start: datetime, end: datetime, *, bucket: str = "day"
) -> dict[str, object]:
    """N4: leads created per day, unhandled among them, by source, and how many converted."""
    require(user, "analytics.view")
    _check_period(start, end)
    base = Lead.all()
    if not has_right(user, "leads.view_all"):
        base = base.filter(Q(responsible_id=user.id) | Q(responsible_id__isnull=True))
    created = base.filter(created_at__gte=start, created_at__lt=end)
    rows = await created.values_list("created_at", "responsible_id", "source", "status")
    unhandled = [
        at for at, responsible, _, status in rows if responsible is None and status == "open"
    ]
    converted = sum(1 for *_, status in rows if status == "converted")
    return {
        "created": len(rows),
        "created_series": _series([r[0] for r in rows], user, bucket),
        "unhandled_series": _series(unhandled, user, bucket),
        "unhandled_now": await Lead.filter(responsible_id__isnull=True, status="open").count(),
        "by_source": sorted(Counter(r[2] for r in rows).items(), key=lambda kv: (-kv[1], kv[0])),
        "converted": converted,
        "conversion": round(converted / len(rows), 4) if rows else None,
    }


async def client_growth(
    user: User,
    start: datetime,
    end: datetime,
    *,
    bucket: str = "month",
    responsible_id: int | None = None,
) -> dict[str, object]:
    """N5: new clients per day, week or month, all or of one responsible user."""
    require(user, "analytics.view")
    _check_period(start, end)
    clients = _owned(
        user, Client.filter(created_at__gte=start, created_at__lt=end), "clients.view_all"
    )
    if responsible_id is not None:
        clients = clients.filter(responsible_id=responsible_id)
    values = await clients.values_list("created_at", flat=True)
    return {
        "new": len(values),
        "series": _series(list(values), user, bucket),
        "total_at_end": await _owned(
            user, Client.filter(created_at__lt=end), "clients.view_all"
        ).count(),
    }
