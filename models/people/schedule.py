"""Working hours (G3): a weekly grid or a rotation of shifts, and "is this user working now?".

A schedule is stored on the user as JSON, in the user's own time zone:

- weekly:   {"kind": "weekly", "days": {"0": [["09:00", "17:00"]], ..., "6": []}}  (0 = Monday)
- rotation: {"kind": "rotation", "start": "2026-01-05", "pattern": [[["08:00", "20:00"]],
            [["20:00", "08:00"]], [], []]}  -- day i of the cycle is pattern[i % len(pattern)]

An interval whose end is not after its start crosses midnight: ["20:00", "08:00"] is a night
shift that ends the next morning. "24:00" may end an interval. An empty schedule means the
hours were never set, and the user counts as always working.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.core.errors import ValidationFailed, msg
from models.schema.users import User

_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
MAX_CYCLE_DAYS = 62

Interval = tuple[int, int]  # minutes from midnight; end may exceed 1440 when crossing midnight


def _minutes(text: Any) -> int:
    match = _HHMM.match(str(text)) if isinstance(text, str) else None
    if not match:
        raise ValueError(msg("%(time)s is not a time like 08:30", time=repr(text)))
    value = int(match.group(1)) * 60 + int(match.group(2))
    if value > 24 * 60:
        raise ValueError(msg("%(time)s is after 24:00", time=repr(text)))
    return value


def _intervals(raw: Any, where: str) -> list[Interval]:
    if not isinstance(raw, list):
        raise ValidationFailed({where: msg("expected a list of [start, end] pairs")})
    result: list[Interval] = []
    for pair in raw:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValidationFailed({where: msg("expected [start, end] pairs")})
        try:
            start, end = _minutes(pair[0]), _minutes(pair[1])
        except ValueError as err:
            raise ValidationFailed({where: err.args[0]}) from None
        if start == 24 * 60:
            raise ValidationFailed({where: msg("a shift cannot start at 24:00")})
        if end <= start:
            end += 24 * 60  # crosses midnight
        result.append((start, end))
    result.sort()
    for (_, end_a), (start_b, _) in zip(result, result[1:], strict=False):
        if start_b < end_a:
            raise ValidationFailed({where: msg("shifts overlap")})
    return result


def validate_schedule(data: Any) -> dict[str, Any]:
    """The schedule normalised, or ValidationFailed naming what is wrong."""
    if not data:
        return {}
    if not isinstance(data, dict):
        raise ValidationFailed({"schedule": msg("expected an object")})
    kind = data.get("kind")
    if kind == "weekly":
        days = data.get("days") or {}
        if not isinstance(days, dict) or any(k not in {str(i) for i in range(7)} for k in days):
            raise ValidationFailed({"days": msg("expected weekdays 0 (Monday) to 6 (Sunday)")})
        clean = {}
        for key in sorted(days):
            _intervals(days[key], f"day {key}")
            clean[key] = [list(p) for p in days[key]]
        return {"kind": "weekly", "days": clean}
    if kind == "rotation":
        try:
            start = date.fromisoformat(str(data.get("start")))
        except ValueError:
            raise ValidationFailed({"start": msg("expected a date like 2026-01-05")}) from None
        pattern = data.get("pattern")
        if not isinstance(pattern, list) or not 1 <= len(pattern) <= MAX_CYCLE_DAYS:
            raise ValidationFailed(
                {"pattern": msg("expected 1 to %(max)s days", max=MAX_CYCLE_DAYS)}
            )
        for index, day in enumerate(pattern):
            _intervals(day, f"day {index + 1}")
        if not any(pattern):
            raise ValidationFailed({"pattern": msg("a rotation needs at least one shift")})
        return {
            "kind": "rotation",
            "start": start.isoformat(),
            "pattern": [[list(p) for p in day] for day in pattern],
        }
    raise ValidationFailed({"kind": msg("expected weekly or rotation")})


def day_night_rotation(
    start: date,
    *,
    day: tuple[str, str] = ("08:00", "20:00"),
    night: tuple[str, str] = ("20:00", "08:00"),
    days_off: int = 2,
) -> dict[str, Any]:
    """The "day-night-48" rotation: a day shift, a night shift into the next morning, N days off."""
    pattern: list[list[list[str]]] = [[list(day)], [list(night)]] + [[] for _ in range(days_off)]
    return validate_schedule({"kind": "rotation", "start": start.isoformat(), "pattern": pattern})


def _day_intervals(schedule: dict[str, Any], day: date) -> list[Interval]:
    if schedule["kind"] == "weekly":
        return _intervals(schedule["days"].get(str(day.weekday()), []), "day")
    pattern = schedule["pattern"]
    offset = (day - date.fromisoformat(schedule["start"])).days
    return _intervals(pattern[offset % len(pattern)], "day")


def zone_of(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_working_at(schedule: dict[str, Any], tz: ZoneInfo, at: datetime) -> bool:
    if not schedule:
        return True
    local = at.astimezone(tz)
    minute = local.hour * 60 + local.minute
    today = local.date()
    if any(start <= minute < end for start, end in _day_intervals(schedule, today)):
        return True
    # A shift of yesterday that crosses midnight covers the small hours of today.
    yesterday = today - timedelta(days=1)
    return any(minute + 24 * 60 < end for _, end in _day_intervals(schedule, yesterday))


def is_working(user: User, at: datetime) -> bool:
    """Whether `at` (aware) falls within the user's working hours, in the user's time zone."""
    return is_working_at(user.work_schedule or {}, zone_of(user), at)


def validate_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            {"time_zone": msg("unknown time zone %(name)s", name=repr(name))}
        ) from None
    return name


def weekly_from_grid(rows: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """A weekly schedule from one [start, end] per weekday (the settings form's grid)."""
    days = {str(d): [[s, e]] for d, (s, e) in rows.items() if s and e}
    return validate_schedule({"kind": "weekly", "days": days})
