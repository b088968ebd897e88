"""The user's days as UTC ranges: every date filter of the product, and the analytics periods.

A person filters by the dates of their own calendar: "from 25 to 25 November" means from their
midnight of the 25th to their midnight of the 26th, wherever the server and the database keep
their clocks. `local_days` is the one place that turns such dates into a UTC range [start, end)
(the calls, tasks, leads and clients lists, exports, the dashboard and the analytics periods
all go through it); stored timestamps are UTC, so the range then compares them as they are on
SQLite and PostgreSQL alike. A midnight is found in the user's zone, daylight saving included:
a day can last 23 or 25 hours.

A period is chosen in the user's terms (today, this week, this month, the last 30 days, or from
one date to another) and turned into such a range.

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
from models.people.schedule import zone_of
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


@dataclass(frozen=True)
class LocalDays:
    """The user's days `first` to `last` (None: open on that side) as the UTC range
    [start, end) their midnights bound; an unset side stays None."""

    first: date | None
    last: date | None
    start: datetime | None
    end: datetime | None


def user_zone(user: User | None) -> ZoneInfo:
    """The zone the user's dates are read in (UTC for the system and unknown zones)."""
    return zone_of(user) if user is not None else ZoneInfo("UTC")


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC moment `day` starts in `zone`. Where daylight saving skips midnight (clocks
    jump from 00:00 to 01:00) that is the jump itself: a wall time in the gap is read with
    the offset before it; where midnight happens twice, the first one."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_days(user: User | None, first: date | None, last: date | None) -> LocalDays:
    """The user's days `first` to `last` (both included) as a UTC range."""
    zone = user_zone(user)
    return LocalDays(
        first,
        last,
        midnight(first, zone) if first is not None else None,
        midnight(last + timedelta(days=1), zone) if last is not None else None,
    )


def parse_day(value: str | None, field: str) -> date | None:
    """A date typed in a filter (YYYY-MM-DD), None when empty; ValidationFailed naming the
    filter otherwise. A date with a time (2026-11-25T00:00, as the calendar's links write
    it) counts by its date: the filters are whole days."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        day = datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text)
    except ValueError:
        day = None
    # Years far off have no next day or no UTC moment in some zones (date.max + 1 overflows).
    if day is None or not 1900 <= day.year <= 9000:
        raise ValidationFailed({field: msg("expected a date like 2026-11-25")})
    return day


def day_filter(
    user: User | None,
    date_from: str | None,
    date_to: str | None,
    *,
    fields: tuple[str, str] = ("from", "to"),
) -> LocalDays:
    """A list's "from" and "to" date filters (either may be empty) as the user's days."""
    first, last = parse_day(date_from, fields[0]), parse_day(date_to, fields[1])
    if first is not None and last is not None and last < first:
        raise ValidationFailed({fields[1]: msg("the end of the period must be after its start")})
    return local_days(user, first, last)


def _parse_day(value: str | None, field: str) -> date:
    day = parse_day(value, field)
    if day is None:
        raise ValidationFailed({field: msg("expected a date like 2026-11-25")})
    return day


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
    days = local_days(user, first, last)
    assert days.start is not None and days.end is not None  # both days are set
    return Period(name, days.start, days.end, first, last)


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
