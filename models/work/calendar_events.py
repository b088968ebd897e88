"""A CRM task as a Google Calendar event and back (K2): one mapping, used both ways.

Round trips are exact: what the CRM writes reads back as the same task, so a sync that
reads its own write changes nothing. A done task's event title starts with "✓ "; putting
the mark in Google's title ticks the task, taking it away reopens it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from models.schema.tasks import Task
from models.work.calendar_api import Event

DONE_MARK = "✓"
TASK_KEY = "centralitaTask"  # extendedProperties.private: the task an event was written for
MAX_REMINDER_MINUTES = 40320  # Google's limit (4 weeks)
NO_TITLE = "(Google Calendar)"
# Only ordinary events become tasks: not working locations, out of office, focus time or
# birthdays, which Google adds to calendars by itself.
IMPORTED_TYPES = ("default", "fromGmail")


@dataclass
class EventFields:
    """What a Google event says about a task."""

    title: str
    description: str
    due_at: datetime  # UTC
    duration_minutes: int
    all_day: bool
    is_done: bool
    remind_minutes_before: int | None
    ends_at: datetime  # UTC
    attendee_emails: list[str]


def event_body(task: Task, zone: tzinfo, *, task_url: str = "") -> Event:
    """The event the CRM writes for `task`, its times in the user's time zone `zone`."""
    title = task.title
    body: Event = {
        "summary": f"{DONE_MARK} {title}" if task.is_done else title,
        "description": task.description,
        "extendedProperties": {"private": {TASK_KEY: str(task.id)}},
    }
    local = task.due_at.astimezone(zone)
    if task.all_day:
        days = max(1, math.ceil(task.duration_minutes / 1440))
        body["start"] = {"date": local.date().isoformat()}
        body["end"] = {"date": (local.date() + timedelta(days=days)).isoformat()}
    else:
        name = getattr(zone, "key", "UTC")
        end = local + timedelta(minutes=max(0, task.duration_minutes))
        body["start"] = {"dateTime": local.isoformat(), "timeZone": name}
        body["end"] = {"dateTime": end.isoformat(), "timeZone": name}
    if task.remind_minutes_before is None:
        body["reminders"] = {"useDefault": True}
    else:
        minutes = min(task.remind_minutes_before, MAX_REMINDER_MINUTES)
        body["reminders"] = {
            "useDefault": False,
            "overrides": [{"method": "popup", "minutes": minutes}],
        }
    if task_url:
        body["source"] = {"title": "Centralita CRM", "url": task_url}
    return body


def body_hash(body: Event) -> str:
    """A fingerprint of an event body: equal bodies, equal hashes (key order aside)."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def written_by_crm(event: Event) -> str | None:
    """The task id the CRM stamped on the event, or None for an event made in Google."""
    private = (event.get("extendedProperties") or {}).get("private") or {}
    value = private.get(TASK_KEY)
    return str(value) if value else None


def updated_at(event: Event) -> datetime:
    """When the event last changed in Google (its `updated`), in UTC."""
    return _instant(event.get("updated") or "1970-01-01T00:00:00Z")


def instance_key(event: Event) -> str:
    """Which occurrence of a recurring series the event is ("" for a single event)."""
    original = event.get("originalStartTime") or {}
    return str(original.get("dateTime") or original.get("date") or "")


def is_importable(event: Event) -> bool:
    return str(event.get("eventType") or "default") in IMPORTED_TYPES


def read_event(event: Event, zone: tzinfo) -> EventFields | None:
    """The task fields an event carries; None when it has no usable start."""
    start, end = event.get("start") or {}, event.get("end") or {}
    try:
        if start.get("date"):
            first = date.fromisoformat(start["date"])
            last = date.fromisoformat(end["date"]) if end.get("date") else first
            days = max(1, (last - first).days)
            due = datetime.combine(first, time(0), zone).astimezone(UTC)
            duration, all_day = days * 1440, True
            ends = datetime.combine(first + timedelta(days=days), time(0), zone)
        elif start.get("dateTime"):
            due = _instant(start["dateTime"], start.get("timeZone"))
            ends = _instant(end["dateTime"], end.get("timeZone")) if end.get("dateTime") else due
            duration = max(0, int((ends - due).total_seconds() // 60))
            all_day = False
        else:
            return None
    except (ValueError, TypeError, KeyError):
        return None
    summary = str(event.get("summary") or "").strip()
    done = summary.startswith(DONE_MARK)
    title = summary[len(DONE_MARK) :].strip() if done else summary
    return EventFields(
        title=(title or NO_TITLE)[:200],
        description=str(event.get("description") or ""),
        due_at=due,
        duration_minutes=min(duration, 24 * 60 * 31),
        all_day=all_day,
        is_done=done,
        remind_minutes_before=_reminder(event.get("reminders") or {}),
        ends_at=ends.astimezone(UTC),
        attendee_emails=[
            str(a.get("email", "")).lower()
            for a in event.get("attendees") or []
            if a.get("email") and a.get("responseStatus") != "declined"
        ],
    )


def _reminder(reminders: dict[str, Any]) -> int | None:
    if reminders.get("useDefault", True):
        return None
    minutes = [
        int(o["minutes"])
        for o in reminders.get("overrides") or []
        if isinstance(o.get("minutes"), int) and o["minutes"] >= 0
    ]
    return min(minutes) if minutes else None


def _instant(text: str, zone_name: str | None = None) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:  # a floating time: in the event's time zone
        value = value.replace(tzinfo=ZoneInfo(zone_name) if zone_name else UTC)
    return value.astimezone(UTC)
