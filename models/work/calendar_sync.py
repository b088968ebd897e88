"""Two-way sync of one user's tasks with their Google Calendar (K2).

One run: read Google's changes (incremental with the sync token; a full read on 410 or
once a week), apply them to the CRM, then write the CRM's changes to Google. The rules:

- Every task that travels is linked to its event (GoogleEventLink); a link is how an event
  is known, so a full read after 410 matches events to their tasks and duplicates nothing.
- No echo: an event the CRM wrote (stamped with the task id in its private extended
  properties) is never imported as a new task, and reading back what the CRM wrote changes
  nothing (same etag, same fingerprint).
- Conflict: when the task and its event both changed since the last sync, the later change
  wins by its update time (the task's updated_at against the event's `updated`).
- Deleting an event deletes the task when the user was its only participant, otherwise it
  takes the user off it; deleting a task deletes its events.
- An invitation to an event another CRM user already brought in (same iCalUID and
  occurrence) joins that task instead of making a second one.
- Imports only what is to come: events ending from now on and starting within HORIZON;
  pushes open tasks due from now on, and every change of a task already linked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models.core.clock import Clock
from models.people.schedule import zone_of
from models.schema.calendar_sync import GoogleCalendarLink, GoogleEventLink
from models.schema.tasks import Task
from models.schema.users import User
from models.work.calendar_api import CalendarApi, CalendarApiError, Event, SyncTokenExpired
from models.work.calendar_events import (
    EventFields,
    body_hash,
    event_body,
    instance_key,
    is_importable,
    read_event,
    updated_at,
    written_by_crm,
)
from models.work.tasks import ALL_DAY

logger = logging.getLogger(__name__)

HORIZON = timedelta(days=180)  # events further ahead come in with a later weekly full read
FULL_READ_EVERY = timedelta(days=7)
PUSH_BATCH = 2000  # new tasks written per run; the next run goes on


@dataclass
class SyncReport:
    crm_created: int = 0
    crm_updated: int = 0
    crm_deleted: int = 0
    google_created: int = 0
    google_updated: int = 0
    google_deleted: int = 0
    api_calls: int = 0
    full_read: bool = False

    def add(self, other: SyncReport) -> None:
        for name in self.__dataclass_fields__:
            if name != "full_read":
                setattr(self, name, getattr(self, name) + getattr(other, name))


async def sync_calendar(
    link: GoogleCalendarLink,
    api: CalendarApi,
    *,
    clock: Clock,
    pull: bool = True,
    task_url: str = "",
) -> SyncReport:
    """One run for one connection; CalendarApiError propagates (the caller records it)."""
    report = SyncReport()
    if not link.calendar_id:
        return report
    user = await User.get(id=link.user_id)
    run = _Run(link, user, api, clock, report, zone_of(user), task_url)
    before = api.calls
    if pull:
        await run.pull()
    await run.push()
    report.api_calls = api.calls - before
    link.last_sync_at = clock.now()
    await link.save(
        update_fields=["sync_token", "last_sync_at", "last_pull_at", "last_full_sync_at"]
        + ["pull_requested_at"]
    )
    return report


class _Run:
    def __init__(
        self,
        link: GoogleCalendarLink,
        user: User,
        api: CalendarApi,
        clock: Clock,
        report: SyncReport,
        zone: tzinfo,
        task_url: str,
    ) -> None:
        self.link, self.user, self.api, self.clock = link, user, api, clock
        self.report, self.zone, self.task_url = report, zone, task_url
        self.now = clock.now()

    # -- Google -> CRM -------------------------------------------------------------------

    async def pull(self) -> None:
        link = self.link
        full = (
            not link.sync_token
            or link.last_full_sync_at is None
            or self.now - link.last_full_sync_at >= FULL_READ_EVERY
        )
        try:
            changes = await self.api.list_changes(
                link.calendar_id, None if full else link.sync_token
            )
        except SyncTokenExpired:
            logger.info("calendar %s: sync token expired, reading it whole", link.id)
            full = True
            changes = await self.api.list_changes(link.calendar_id, None)
        self.report.full_read = full
        if full:
            rows = await GoogleEventLink.filter(calendar_id=link.id)
        else:
            ids = [str(e.get("id")) for e in changes.events]
            rows = []
            for i in range(0, len(ids), 500):
                rows += await GoogleEventLink.filter(
                    calendar_id=link.id, event_id__in=ids[i : i + 500]
                )
        self.rows = {r.event_id: r for r in rows}
        seen: set[str] = set()
        for event in changes.events:
            seen.add(str(event.get("id")))
            await self._pull_one(event)
        if full:  # linked events Google no longer has at all: deleted long ago
            for row in list(self.rows.values()):
                if row.event_id not in seen and row.task_id is not None:
                    await self._deleted_in_google(row)
        link.sync_token = changes.next_sync_token
        link.last_pull_at = self.now
        link.pull_requested_at = None
        if full:
            link.last_full_sync_at = self.now

    async def _pull_one(self, event: Event) -> None:
        event_id = str(event.get("id") or "")
        row = self.rows.get(event_id)
        if event.get("status") == "cancelled":
            rows = (
                [row]
                if row
                else await GoogleEventLink.filter(
                    calendar_id=self.link.id, recurring_event_id=event_id
                )
            )
            for each in rows:
                await self._deleted_in_google(each)
            return
        fields = read_event(event, self.zone)
        if fields is None:
            return
        if row is not None:
            await self._changed_in_google(row, event, fields)
        elif written_by_crm(event) is None and self.link.pull_from_google:
            await self._new_in_google(event, fields)

    async def _changed_in_google(
        self, row: GoogleEventLink, event: Event, fields: EventFields
    ) -> None:
        if row.task_id is None or event.get("etag") == row.etag:
            return  # the task is being deleted, or this is what the CRM wrote
        task = await Task.get_or_none(id=row.task_id)
        if task is None:
            return
        changed_here = self._changed_in_crm(task, row)
        if changed_here and task.updated_at >= updated_at(event):
            return  # the CRM's later change wins: the push below writes it
        async with in_transaction():
            _apply(task, fields, self.now)
            await task.save()
            await self._remember(row, task, event)
        self.report.crm_updated += 1

    async def _new_in_google(self, event: Event, fields: EventFields) -> None:
        if not is_importable(event):
            return
        if fields.ends_at < self.now or fields.due_at > self.now + HORIZON:
            return
        ical_uid = str(event.get("iCalUID") or "")
        occurrence = instance_key(event)
        twin = None
        if ical_uid:
            twin = (
                await GoogleEventLink.filter(
                    ical_uid=ical_uid, instance_start=occurrence, task_id__isnull=False
                )
                .exclude(calendar_id=self.link.id)
                .first()
            )
        async with in_transaction():
            if twin is not None and twin.task_id is not None:
                task = await Task.get(id=twin.task_id)
                await task.assignees.add(self.user)
                self.report.crm_updated += 1
            else:
                task = Task(author_id=self.user.id, kind="task", created_at=self.now)
                _apply(task, fields, self.now)
                await task.save()
                colleagues = await User.filter(
                    email__in=fields.attendee_emails or ["-"], is_active=True
                ).exclude(id=self.user.id)
                await task.assignees.add(self.user, *colleagues)
                self.report.crm_created += 1
            row = GoogleEventLink(
                calendar_id=self.link.id,
                task_id=task.id,
                event_id=str(event["id"]),
                ical_uid=ical_uid,
                recurring_event_id=str(event.get("recurringEventId") or ""),
                instance_start=occurrence,
            )
            await self._remember(row, task, event)
        self.rows[row.event_id] = row

    async def _deleted_in_google(self, row: GoogleEventLink) -> None:
        async with in_transaction():
            task = await Task.get_or_none(id=row.task_id) if row.task_id else None
            if task is not None:
                others = await task.assignees.filter(id__not=self.user.id).count()
                if others:
                    await task.assignees.remove(self.user)
                    self.report.crm_updated += 1
                else:
                    await task.delete()  # other calendars' links become tombstones
                    self.report.crm_deleted += 1
            await row.delete()
        self.rows.pop(row.event_id, None)

    # -- CRM -> Google -------------------------------------------------------------------

    async def push(self) -> None:
        link = self.link
        rows = await GoogleEventLink.filter(calendar_id=link.id).select_related("task")
        for row in rows:
            if row.task_id is None:
                await self.api.delete_event(link.calendar_id, row.event_id)
                await row.delete()
                self.report.google_deleted += 1
            elif row.task is not None and row.task.updated_at != row.task_version:
                await self._push_change(row, row.task)
        if link.push_to_google:
            await self._push_new()

    async def _push_change(self, row: GoogleEventLink, task: Task) -> None:
        link = self.link
        if not await task.assignees.filter(id=self.user.id).exists():
            await self.api.delete_event(link.calendar_id, row.event_id)
            await row.delete()
            self.report.google_deleted += 1
            return
        body = event_body(task, self.zone, task_url=self._url(task))
        if body_hash(body) == row.body_hash:
            row.task_version = task.updated_at
            await row.save(update_fields=["task_version"])
            return
        try:
            event = await self.api.patch_event(link.calendar_id, row.event_id, body)
        except CalendarApiError as err:
            if err.status not in (404, 410):
                raise
            await self._deleted_in_google(row)  # deleted in Google before we could write
            return
        await self._remember(row, task, event, body)
        self.report.google_updated += 1

    async def _push_new(self) -> None:
        linked = Subquery(
            GoogleEventLink.filter(calendar_id=self.link.id, task_id__isnull=False).values(
                "task_id"
            )
        )
        tasks = (
            await Task.filter(assignees__id=self.user.id, is_done=False)
            .filter(Q(due_at__gte=self.now) | Q(all_day=True, due_at__gt=self.now - ALL_DAY))
            .exclude(id__in=linked)
            .order_by("due_at", "id")
            .limit(PUSH_BATCH)
        )
        for task in tasks:
            body = event_body(task, self.zone, task_url=self._url(task))
            event = await self.api.insert_event(self.link.calendar_id, body)
            row = GoogleEventLink(
                calendar_id=self.link.id,
                task_id=task.id,
                event_id=str(event["id"]),
                ical_uid=str(event.get("iCalUID") or ""),
            )
            await self._remember(row, task, event, body)
            self.report.google_created += 1

    # -- both ------------------------------------------------------------------------------

    def _changed_in_crm(self, task: Task, row: GoogleEventLink) -> bool:
        if task.updated_at == row.task_version:
            return False
        return body_hash(event_body(task, self.zone, task_url=self._url(task))) != row.body_hash

    async def _remember(
        self, row: GoogleEventLink, task: Task, event: Event, body: Event | None = None
    ) -> None:
        body = body or event_body(task, self.zone, task_url=self._url(task))
        row.etag = str(event.get("etag") or "")[:100]
        row.google_updated = updated_at(event)
        row.task_version = task.updated_at
        row.body_hash = body_hash(body)
        await row.save()

    def _url(self, task: Task) -> str:
        return f"{self.task_url.rstrip('/')}/tasks/{task.id}" if self.task_url else ""


def _apply(task: Task, fields: EventFields, now: datetime) -> None:
    if task.due_at is not None and fields.due_at != task.due_at:
        task.reminded_at = None
    task.title = fields.title
    task.description = fields.description
    task.due_at = fields.due_at
    task.duration_minutes = fields.duration_minutes
    task.all_day = fields.all_day
    task.remind_minutes_before = fields.remind_minutes_before
    if fields.is_done and not task.is_done:
        task.is_done, task.done_at = True, now
    elif not fields.is_done and task.is_done:
        task.is_done, task.done_at, task.done_by_id = False, None, None
