"""Periods of the analytics reports and grouping by local hour or day inside the database.

A period is chosen in the user's terms (today, this week, this month, the last 30 days, or from
one date to another) and turned into a UTC range [start, end) at the user's midnights.

Grouping by "9 o'clock" or "25 November" must happen in the user's time zone but inside the
database (a month of two million calls cannot be read into Python). SQLite knows no time zones,
so the range is cut where the zone's UTC offset changes (daylight saving) and each piece is
grouped with its fixed offset: both SQLite and PostgreSQL then run the same plain arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.core.errors import ValidationFailed, msg
from models.reporting.dashboard import user_zone
from models.schema.users import User

PERIODS = ("today", "week", "month", "30days", "custom")
MAX_DAYS = 3 * 366  # a custom range longer than this is a mistake, not a report


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, and the local days it covers (last_day included)."""

    name: str
    start: datetime
    end: datetime
    first_day: date
    last_day: date


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _parse_day(value: str | None, field: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationFailed({field: msg("expected a date like 2026-11-25")}) from None


def resolve_period(
    user: User,
    now: datetime,
    name: str = "month",
    date_from: str | None = None,
    date_to: str | None = None,
) -> Period:
    """The period called `name` as the user sees it on their own calendar and clock."""
    zone = user_zone(user)
    today = now.astimezone(zone).date()
    if name == "today":
        first = last = today
    elif name == "week":
        first = today - timedelta(days=(today.weekday() - (user.first_weekday or 0)) % 7)
        last = first + timedelta(days=6)
    elif name == "month":
        first = today.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    elif name == "30days":
        first, last = today - timedelta(days=29), today
    elif name == "custom":
        first, last = _parse_day(date_from, "from"), _parse_day(date_to, "to")
        if last < first:
            raise ValidationFailed({"to": msg("the end of the period must be after its start")})
        if (last - first).days > MAX_DAYS:
            raise ValidationFailed({"to": msg("a period can cover at most three years")})
    else:
        raise ValidationFailed(
            {"period": msg("must be one of: %(choices)s", choices=", ".join(PERIODS))}
        )
    return Period(
        name, _midnight(first, zone), _midnight(last + timedelta(days=1), zone), first, last
    )


def offset_spans(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, int]]:
    """[start, end) cut where the zone's UTC offset changes: (from, to, offset in minutes)."""

    def offset(at: datetime) -> int:
        return int((at.astimezone(zone).utcoffset() or timedelta()).total_seconds() // 60)

    spans: list[tuple[datetime, datetime, int]] = []
    piece_start, current = start, offset(start)
    probe = start
    while probe < end:
        step = min(probe + timedelta(hours=12), end)  # zones change at most once in 12 hours
        if offset(step - timedelta(microseconds=1)) != current:
            # The first second with the new offset, by bisection on whole seconds.
            low, high = int(probe.timestamp()), int(step.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if offset(datetime.fromtimestamp(middle, UTC)) == current:
                    low = middle
                else:
                    high = middle
            change = datetime.fromtimestamp(high, UTC)
            spans.append((piece_start, change, current))
            piece_start, current = change, offset(change)
        probe = step
    spans.append((piece_start, end, current))
    return [span for span in spans if span[0] < span[1]]


def as_date(value: object) -> date:
    """A grouped day as the database returns it (a date, or text on SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
