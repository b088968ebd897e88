"""What the fake Google Calendar stores: accounts, calendars, events and their change history.

Every change to an event takes the next number of one counter; a sync token remembers the
number it was issued at, so an incremental list returns the events changed after it.
"""

from __future__ import annotations

import base64
import copy
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes import google_calendar_time as gtime

READ_ONLY = {"kind", "etag", "id", "htmlLink", "created", "updated", "creator", "iCalUID"}
WHOLE_VALUES = {"start", "end", "originalStartTime", "recurrence", "attendees"}
SEQUENCE_FIELDS = ("start", "end", "recurrence", "location")
BASE32HEX = "0123456789abcdefghijklmnopqrstuv"


class ApiError(Exception):
    """An error the Calendar API answers with: status, reason, message."""

    def __init__(self, status: int, reason: str, message: str, domain: str = "global") -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.domain = status, reason, message, domain


def not_found() -> ApiError:
    return ApiError(404, "notFound", "Not Found")


def new_event_id() -> str:
    return "".join(secrets.choice(BASE32HEX) for _ in range(26))


@dataclass
class Stored:
    body: dict[str, Any]
    changed: int
    deleted: bool = False  # removed as a whole (not a cancelled exception)


@dataclass
class Calendar:
    id: str
    summary: str
    is_primary: bool
    owner: str
    events: dict[str, Stored] = field(default_factory=dict)
    ical_uids: set[str] = field(default_factory=set)


@dataclass
class Account:
    email: str
    calendars: dict[str, Calendar] = field(default_factory=dict)
    sync_epoch: int = 0


class Store:
    """Accounts and their calendars; every event change goes through here."""

    def __init__(self, base_url: str = "") -> None:
        self.base_url = base_url
        self.accounts: dict[str, Account] = {}
        self.counter = 0
        self.sync_tokens: dict[str, tuple[str, str, int, int]] = {}

    # accounts and calendars -------------------------------------------------------------
    def add_account(self, email: str, calendars: list[str] | tuple[str, ...] = ()) -> None:
        account = Account(email)
        account.calendars[email] = Calendar(email, email, True, email)
        for summary in calendars:
            slug = re.sub(r"[^a-z0-9]+", "-", summary.lower()).strip("-") or "calendar"
            cal_id = f"{slug}@group.calendar.google.com"
            account.calendars[cal_id] = Calendar(cal_id, summary, False, email)
        self.accounts[email] = account

    def calendar(self, email: str, calendar_id: str) -> Calendar:
        account = self.accounts.get(email)
        if account is None:
            raise not_found()
        if calendar_id == "primary":
            calendar_id = email
        if calendar_id not in account.calendars:
            raise not_found()
        return account.calendars[calendar_id]

    def tick(self) -> int:
        self.counter += 1
        return self.counter

    def _stamp(self, body: dict[str, Any]) -> int:
        number = self.tick()
        body["etag"] = f'"{3_500_000_000_000_000 + number}"'
        body["updated"] = gtime.rfc3339(datetime.now(UTC))
        return number

    # writes -----------------------------------------------------------------------------
    def insert(self, calendar: Calendar, given: dict[str, Any]) -> dict[str, Any]:
        if "start" not in given:
            raise ApiError(400, "required", "Missing start time.")
        if "end" not in given:
            raise ApiError(400, "required", "Missing end time.")
        self._check_span(given["start"], given["end"])
        event_id = given.get("id") or new_event_id()
        if not re.fullmatch(r"[a-v0-9]{5,1024}", event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in calendar.events:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        ical = given.get("iCalUID") or f"{event_id}@google.com"
        if ical in calendar.ical_uids:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        now = gtime.rfc3339(datetime.now(UTC))
        body = {k: copy.deepcopy(v) for k, v in given.items() if k not in READ_ONLY}
        eid = base64.urlsafe_b64encode(f"{event_id} {calendar.id}".encode()).decode().rstrip("=")
        body.update(
            kind="calendar#event",
            id=event_id,
            status=given.get("status", "confirmed"),
            htmlLink=f"{self.base_url}/calendar/event?eid={eid}",
            created=now,
            creator={"email": calendar.owner, "self": True},
            iCalUID=ical,
            sequence=int(given.get("sequence", 0)),
        )
        body.setdefault("organizer", self._organizer(calendar))
        body.setdefault("reminders", {"useDefault": True})
        body.setdefault("eventType", "default")
        calendar.events[event_id] = Stored(body, self._stamp(body))
        calendar.ical_uids.add(ical)
        return copy.deepcopy(body)

    def get(self, calendar: Calendar, event_id: str) -> dict[str, Any]:
        stored = calendar.events.get(event_id)
        if stored is not None:
            return copy.deepcopy(stored.body)
        return self._generated_instance(calendar, event_id)

    def change(
        self, calendar: Calendar, event_id: str, changes: dict[str, Any], *, replace: bool
    ) -> dict[str, Any]:
        """PATCH (merge) or PUT (replace) an event or one instance of a series."""
        stored = calendar.events.get(event_id)
        if stored is None:  # the first change to an instance makes it an exception
            stored = Stored(self._generated_instance(calendar, event_id), 0)
        before = copy.deepcopy(stored.body)
        if replace:
            if "start" not in changes or "end" not in changes:
                raise ApiError(400, "required", "Missing end time.")
            kept = {k: v for k, v in stored.body.items() if k in READ_ONLY}
            kept.update(
                {k: v for k, v in stored.body.items() if k in ("recurringEventId", "organizer")}
            )
            kept["originalStartTime"] = stored.body.get("originalStartTime")
            new = {k: copy.deepcopy(v) for k, v in changes.items() if k not in READ_ONLY}
            new = {**kept, **new}
            new.setdefault("status", "confirmed")
            new.setdefault("reminders", {"useDefault": True})
            new.setdefault("eventType", "default")
            new["sequence"] = int(changes.get("sequence", before.get("sequence", 0)))
            if new.get("originalStartTime") is None:
                new.pop("originalStartTime", None)
        else:
            new = copy.deepcopy(stored.body)
            _merge(new, {k: v for k, v in changes.items() if k not in READ_ONLY})
        if "recurringEventId" in new:
            new.pop("recurrence", None)
        self._check_span(new.get("start", {}), new.get("end", {}))
        given_sequence = changes.get("sequence")
        if given_sequence is not None and int(given_sequence) < before.get("sequence", 0):
            raise ApiError(400, "invalidSequenceValue", "Invalid sequence value.")
        if any(before.get(k) != new.get(k) for k in SEQUENCE_FIELDS):
            new["sequence"] = max(int(new.get("sequence", 0)), before.get("sequence", 0) + 1)
        stored.body = new
        stored.deleted = new.get("status") == "cancelled" and "recurringEventId" not in new
        stored.changed = self._stamp(new)
        calendar.events[event_id] = stored
        return copy.deepcopy(new)

    def delete(self, calendar: Calendar, event_id: str) -> None:
        stored = calendar.events.get(event_id)
        if stored is None:
            stored = Stored(self._generated_instance(calendar, event_id), 0)
            calendar.events[event_id] = stored
        if stored.body.get("status") == "cancelled":
            raise ApiError(410, "deleted", "Resource has been deleted")
        stored.body["status"] = "cancelled"
        stored.deleted = "recurringEventId" not in stored.body
        stored.changed = self._stamp(stored.body)

    # reads ------------------------------------------------------------------------------
    def instances(
        self, calendar: Calendar, master: Stored
    ) -> list[tuple[Stored | None, dict[str, Any]]]:
        """Every instance of a series: (stored exception or None, API body), in time order."""
        body = master.body
        duration = gtime.event_time(body["end"]) - gtime.event_time(body["start"])
        found: list[tuple[Stored | None, dict[str, Any]]] = []
        for moment in gtime.occurrences(body["start"], body["recurrence"], None):
            start = gtime.shifted(body["start"], moment)
            instance_id = f"{body['id']}_{gtime.instance_suffix(start)}"
            exception = calendar.events.get(instance_id)
            if exception is not None:
                found.append((exception, copy.deepcopy(exception.body)))
                continue
            instance = {
                k: copy.deepcopy(v) for k, v in body.items() if k not in ("recurrence", "id")
            }
            instance.update(
                id=instance_id,
                start=start,
                end=gtime.plus(start, duration),
                recurringEventId=body["id"],
                originalStartTime=copy.deepcopy(start),
            )
            found.append((None, instance))
        return found

    def _generated_instance(self, calendar: Calendar, event_id: str) -> dict[str, Any]:
        master_id, _, suffix = event_id.rpartition("_")
        master = calendar.events.get(master_id)
        if not master or "recurrence" not in master.body or master.deleted:
            raise not_found()
        for exception, body in self.instances(calendar, master):
            if body["id"] == event_id and exception is None:
                return body
        raise not_found()

    def _organizer(self, calendar: Calendar) -> dict[str, Any]:
        if calendar.is_primary:
            return {"email": calendar.id, "self": True}
        return {"email": calendar.id, "displayName": calendar.summary, "self": True}

    @staticmethod
    def _check_span(start: dict[str, Any], end: dict[str, Any]) -> None:
        try:
            gtime.validate_span(start, end)
        except (gtime.BadTimeError, ValueError, TypeError, KeyError) as err:
            if "empty" in str(err):
                raise ApiError(400, "timeRangeEmpty", str(err)) from err
            raise ApiError(400, "invalid", f"Invalid start or end time: {err}") from err

    # sync tokens ------------------------------------------------------------------------
    def issue_sync_token(self, calendar: Calendar, at: int) -> str:
        token = "C" + secrets.token_urlsafe(24)
        epoch = self.accounts[calendar.owner].sync_epoch
        self.sync_tokens[token] = (calendar.owner, calendar.id, at, epoch)
        return token

    def sync_point(self, calendar: Calendar, token: str) -> int:
        known = self.sync_tokens.get(token)
        if (
            known is None
            or known[:2] != (calendar.owner, calendar.id)
            or known[3] != self.accounts[calendar.owner].sync_epoch
        ):
            raise ApiError(
                410,
                "fullSyncRequired",
                "Sync token is no longer valid, a full sync is required.",
            )
        return known[2]


def minimal_cancelled(body: dict[str, Any]) -> dict[str, Any]:
    """A deleted event as a sync answers it: only id and status are promised."""
    return {k: body[k] for k in ("kind", "etag", "id", "status") if k in body}


def start_key(body: dict[str, Any]) -> datetime:
    when = body.get("start") or body.get("originalStartTime")
    return gtime.event_time(when) if when else datetime.min.replace(tzinfo=UTC)


def _merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif (
            isinstance(value, dict)
            and isinstance(target.get(key), dict)
            and (key not in WHOLE_VALUES)
        ):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
