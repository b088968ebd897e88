"""Time helpers of the fake Google Calendar: RFC 3339 text, event times and RRULE expansion.

An endless series is expanded only up to two years from now (Google expands further; no test
of ours looks that far ahead).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

EXPANSION_HORIZON = timedelta(days=730)


class BadTimeError(ValueError):
    """A time value the API would refuse."""


def rfc3339(moment: datetime) -> str:
    """`updated`/`created` as Google writes them: UTC, milliseconds, Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_instant(text: str) -> datetime:
    """timeMin/timeMax/updatedMin: an RFC 3339 timestamp with an offset."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as err:
        raise BadTimeError(text) from err
    if moment.tzinfo is None:
        raise BadTimeError(text)
    return moment


def zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def is_all_day(when: dict[str, Any]) -> bool:
    return "date" in when and "dateTime" not in when


def event_time(when: dict[str, Any]) -> datetime:
    """The instant of a start/end object; an all-day date counts from UTC midnight."""
    if is_all_day(when):
        return datetime.combine(date.fromisoformat(when["date"]), datetime.min.time(), UTC)
    if "dateTime" not in when:
        raise BadTimeError("missing dateTime")
    moment = datetime.fromisoformat(when["dateTime"].replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(when.get("timeZone")) or UTC)
    return moment


def validate_span(start: dict[str, Any], end: dict[str, Any]) -> None:
    if is_all_day(start) != is_all_day(end):
        raise BadTimeError("start and end must both be dates or both be date-times")
    if event_time(end) < event_time(start):
        raise BadTimeError("The specified time range is empty.")


def instance_suffix(start: dict[str, Any]) -> str:
    """The part after "_" in an instance id: 20260105T100000Z, or 20260105 for all-day."""
    if is_all_day(start):
        return str(start["date"]).replace("-", "")
    return event_time(start).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local_start(start: dict[str, Any]) -> datetime:
    moment = event_time(start)
    tz = zone(start.get("timeZone"))
    return moment.astimezone(tz) if tz else moment


def _fix_until(lines: list[str]) -> list[str]:
    """A date-only UNTIL on a timed series means "through that day" (dateutil needs UTC)."""
    fixed = []
    for line in lines:
        if line.upper().startswith("RRULE:"):
            line = re.sub(r"UNTIL=(\d{8})(?=;|$)", r"UNTIL=\1T235959Z", line)
        fixed.append(line)
    return fixed


def occurrences(
    start: dict[str, Any], recurrence: list[str], until: datetime | None
) -> list[datetime | date]:
    """Occurrence starts of a series (dates for all-day), up to `until` or the horizon."""
    horizon = datetime.now(UTC) + EXPANSION_HORIZON
    limit = min(until, horizon) if until else horizon
    if is_all_day(start):
        first = datetime.combine(date.fromisoformat(start["date"]), datetime.min.time())
        rule = rrulestr("\n".join(recurrence), dtstart=first, forceset=True)
        naive_limit = limit.astimezone(UTC).replace(tzinfo=None)
        return [moment.date() for moment in _take(rule, lambda m: m > naive_limit)]
    first = _local_start(start)
    lines = [line for line in recurrence if line.strip()]
    try:
        rule = rrulestr("\n".join(lines), dtstart=first, forceset=True)
    except (ValueError, TypeError):
        rule = rrulestr("\n".join(_fix_until(lines)), dtstart=first, forceset=True)
    return list(_take(rule, lambda m: m > limit))


def _take(rule: Any, past_limit: Any) -> list[datetime]:
    taken = []
    for moment in rule:
        if past_limit(moment):
            break
        taken.append(moment)
    return taken


def shifted(master_start: dict[str, Any], occurrence: datetime | date) -> dict[str, Any]:
    """A start object like the master's, moved to one occurrence."""
    if isinstance(occurrence, datetime):
        moved = {"dateTime": occurrence.isoformat()}
        if "timeZone" in master_start:
            moved["timeZone"] = master_start["timeZone"]
        return moved
    return {"date": occurrence.isoformat()}


def plus(when: dict[str, Any], delta: timedelta) -> dict[str, Any]:
    if is_all_day(when):
        return {"date": (date.fromisoformat(when["date"]) + delta).isoformat()}
    moved = dict(when)
    moved["dateTime"] = (event_time(when) + delta).isoformat()
    return moved
