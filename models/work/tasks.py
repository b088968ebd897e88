"""Tasks and the calendar (K1, T1-T3): tasks, planned calls, videoconferences, SMS reminders.

Anyone plans tasks for themselves; for colleagues the group needs "tasks.assign_others".
A user sees the tasks they are assigned to or wrote; "tasks.view_all" sees everyone's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.contacts import timeline_text
from models.contacts.timeline import add_entry
from models.core import filters
from models.core.clock import Clock, SystemClock
from models.core.errors import NotFound, PermissionDenied, ValidationFailed, msg
from models.core.events import TaskDone
from models.core.hub import Hub
from models.core.labels import TASK_KIND_LABELS
from models.core.ordering import Sort, SortKeys, sorted_page
from models.core.sql import is_id
from models.people.permissions import CLIENTS, DEALS, LEADS, has_right, visible_record
from models.schema.clients import Client
from models.schema.deals import Deal
from models.schema.leads import Lead
from models.schema.tasks import Task
from models.schema.users import User

logger = logging.getLogger(__name__)

KINDS = ("task", "call", "video", "sms")
KIND_LABELS = TASK_KIND_LABELS  # their English names (models/core/labels.py)
SCOPES = ("mine", "all")
ALL_DAY = timedelta(days=1)
STATUS_FILTERS = ("open", "done", "overdue", "upcoming", "any")
# The list's orders (models/core/ordering.py), indexed (title and created_at by migration 0010).
SORTS = SortKeys(
    orders={"title": ("title", "id"), "due": ("due_at", "id"), "created": ("created_at", "id")},
    default=Sort("due"),
)


@dataclass
class TaskInput:
    title: str
    due_at: datetime  # UTC (naive values are taken as UTC)
    kind: str = "task"
    description: str = ""
    duration_minutes: int = 30
    assignee_ids: list[int] = field(default_factory=list)  # empty: the acting user
    client_id: int | None = None
    lead_id: int | None = None
    deal_id: int | None = None
    remind_minutes_before: int | None = None
    sms_text: str = ""  # kind "sms": the text sent to the client at the due time (T2)
    all_day: bool = False  # due_at is the day's local midnight, duration whole days


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _check(
    user: User, data: TaskInput, *, sms_enabled: bool
) -> tuple[list[int], dict[str, Any]]:
    errors: dict[str, str] = {}
    if not (data.title or "").strip():
        errors["title"] = msg("the task needs a title")
    if data.kind not in KINDS:
        errors["kind"] = msg("must be one of: %(choices)s", choices=", ".join(KINDS))
    if not isinstance(data.due_at, datetime):
        errors["due_at"] = msg("the task needs a due date and time")
    if data.duration_minutes < 0 or data.duration_minutes > 24 * 60 * 31:
        errors["duration_minutes"] = msg("between 0 and 44640")
    if (
        data.remind_minutes_before is not None
        and not 0 <= data.remind_minutes_before <= 60 * 24 * 30
    ):
        errors["remind_minutes_before"] = msg("between 0 and 43200 minutes")
    if data.kind == "sms" and not sms_enabled:
        # Planned now, it would never be sent and only turn overdue (T2 needs a gateway).
        errors["kind"] = msg("SMS is not configured on this CRM")
    elif data.kind == "sms":
        if not data.sms_text.strip():
            errors["sms_text"] = msg("an SMS task needs the text to send")
        if data.client_id is None and data.lead_id is None:
            errors["client_id"] = msg("an SMS task needs a client or a lead to send it to")
    assignees = list(dict.fromkeys(data.assignee_ids or [user.id]))
    if errors:
        raise ValidationFailed(errors)
    if any(a != user.id for a in assignees) and not has_right(user, "tasks.assign_others"):
        raise PermissionDenied(msg("your group may not create tasks for other users"))
    found = await User.filter(id__in=assignees, is_active=True).count()
    if found != len(assignees):
        raise ValidationFailed({"assignee_ids": msg("some of these users do not exist")})
    links = await _links(user, data.client_id, data.lead_id, data.deal_id)
    return assignees, links


async def _links(
    user: User, client_id: int | None, lead_id: int | None, deal_id: int | None
) -> dict[str, int | None]:
    """The client/lead/deal the task is about, checked visible; a deal implies its client."""
    if deal_id is not None:
        deal = await visible_record(user, DEALS, Deal, deal_id)
        client_id = client_id or deal.client_id
    if client_id is not None:
        await visible_record(user, CLIENTS, Client, client_id)
    if lead_id is not None:
        await visible_record(user, LEADS, Lead, lead_id)
    return {"client_id": client_id, "lead_id": lead_id, "deal_id": deal_id}


async def create_task(
    user: User, data: TaskInput, *, clock: Clock | None = None, sms_enabled: bool = False
) -> Task:
    """Plan a task for oneself or (with the right) for colleagues.

    An SMS task is refused unless the caller says an SMS gateway is configured (`sms_enabled`).
    """
    clock = clock or SystemClock()
    assignees, links = await _check(user, data, sms_enabled=sms_enabled)
    async with in_transaction():
        task = await Task.create(
            title=data.title.strip()[:200],
            description=data.description.strip(),
            kind=data.kind,
            due_at=_utc(data.due_at),
            duration_minutes=data.duration_minutes,
            all_day=data.all_day,
            author_id=user.id,
            sms_text=data.sms_text.strip(),
            remind_minutes_before=data.remind_minutes_before,
            created_at=clock.now(),
            **links,
        )
        await task.assignees.add(*await User.filter(id__in=assignees))
        await add_entry(
            "task",
            clock.now(),
            client_id=links["client_id"],
            lead_id=links["lead_id"],
            ref_id=task.id,
            user_id=user.id,
            detail=timeline_text.detail(
                "task_planned", kind=task.kind, title=task.title, due=task.due_at
            ),
        )
    logger.info("task %s created by %s for %s", task.id, user.username, assignees)
    return task


async def _visible(user: User, task_id: int) -> Task:
    task = await Task.get_or_none(id=task_id).prefetch_related("assignees")
    if task is None:
        raise NotFound(msg("task %(id)s not found", id=task_id))
    assignee_ids = {a.id for a in task.assignees}
    if (
        user.id not in assignee_ids
        and task.author_id != user.id
        and not has_right(user, "tasks.view_all")
    ):
        raise NotFound(msg("task %(id)s not found", id=task_id))  # as if there were none
    return task


async def get_task(user: User, task_id: int) -> Task:
    """The task with assignees, client, lead and deal fetched."""
    task = await _visible(user, task_id)
    await task.fetch_related("client", "lead", "deal", "author")
    return task


async def complete_task(
    user: User, task_id: int, *, clock: Clock | None = None, hub: Hub | None = None
) -> Task:
    """Tick a task as done (T1); ticking a done task again changes nothing. With a `hub`,
    the tick publishes TaskDone (webhooks)."""
    clock = clock or SystemClock()
    task = await _visible(user, task_id)
    if not task.is_done:
        task.is_done = True
        task.done_at = clock.now()
        task.done_by_id = user.id
        await task.save(update_fields=["is_done", "done_at", "done_by_id", "updated_at"])
        if hub is not None:
            hub.publish(TaskDone(task.id, user.id))
    return task


async def reopen_task(user: User, task_id: int) -> Task:
    task = await _visible(user, task_id)
    task.is_done = False
    task.done_at = None
    task.done_by_id = None
    await task.save(update_fields=["is_done", "done_at", "done_by_id", "updated_at"])
    return task


async def reschedule_task(user: User, task_id: int, due_at: datetime) -> Task:
    """Move a task in time; its reminder will be sent again before the new time."""
    task = await _visible(user, task_id)
    task.due_at = _utc(due_at)
    task.reminded_at = None
    await task.save(update_fields=["due_at", "reminded_at", "updated_at"])
    return task


async def update_task(
    user: User, task_id: int, data: TaskInput, *, sms_enabled: bool = False
) -> Task:
    task = await _visible(user, task_id)
    assignees, links = await _check(user, data, sms_enabled=sms_enabled)
    async with in_transaction():
        due = _utc(data.due_at)
        if due != task.due_at:
            task.reminded_at = None
        task.update_from_dict(
            {
                "title": data.title.strip()[:200],
                "description": data.description.strip(),
                "kind": data.kind,
                "due_at": due,
                "duration_minutes": data.duration_minutes,
                "all_day": data.all_day,
                "remind_minutes_before": data.remind_minutes_before,
                "sms_text": data.sms_text.strip(),
                **links,
            }
        )
        await task.save()
        await task.assignees.clear()
        await task.assignees.add(*await User.filter(id__in=assignees))
    return task


async def delete_task(user: User, task_id: int) -> None:
    task = await _visible(user, task_id)
    await task.delete()


def _scoped(user: User, scope: str) -> QuerySet[Task]:
    if scope not in SCOPES:
        raise ValidationFailed(
            {"scope": msg("must be one of: %(choices)s", choices=", ".join(SCOPES))}
        )
    if scope == "all":
        if not has_right(user, "tasks.view_all"):
            raise PermissionDenied(msg("your group may not see other users' tasks"))
        return Task.all()
    # Assignments as an IN list: planned as a union of two index ranges (the user's
    # task_assignee rows, their authored tasks), cheap for the usual user.
    assigned = Subquery(User.filter(id=user.id).values("tasks__id"))
    return Task.filter(Q(id__in=assigned) | Q(author_id=user.id))


def _mine(qs: QuerySet[Task], user_id: int) -> QuerySet[Task]:
    """Tasks assigned to or written by a user.

    Checked row by row against task_assignee's (task_id, user_id) key, for the calendar: the
    day's range picks the rows, instead of an outer join from every task or the list of all
    of the user's assignments (a busy agent has tens of thousands).
    """
    uid = int(user_id)  # written into the SQL: an int only
    mine = RawSQL(
        '(EXISTS (SELECT 1 FROM "task_assignee" ta WHERE ta.task_id = "task"."id" '
        f'AND ta.user_id = {uid}) OR "task"."author_id" = {uid})'
    )
    return qs.annotate(mine=mine).filter(mine=True)


async def list_tasks(
    user: User,
    *,
    scope: str = "mine",
    status: str = "open",
    start: datetime | None = None,
    end: datetime | None = None,
    query: str | None = None,
    client_id: int | None = None,
    lead_id: int | None = None,
    deal_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
    clock: Clock | None = None,
    sort: Sort | None = None,
) -> tuple[list[Task], int]:
    """The task list (T1) in `sort` order (one of SORTS; by default by due time, the latest
    first among done tasks); done and old tasks stay findable with status="done"/"any"."""
    qs = tasks_matching(
        user,
        scope=scope,
        status=status,
        start=start,
        end=end,
        query=query,
        client_id=client_id,
        lead_id=lead_id,
        deal_id=deal_id,
        clock=clock,
    )
    total = await qs.count()
    sort = sort or default_sort(status)
    qs = qs.prefetch_related("assignees", "client", "lead")
    rows = await sorted_page(
        qs, SORTS, sort, offset=offset, limit=max(1, min(limit, 500)), total=total
    )
    return rows, total


def default_sort(status: str) -> Sort:
    """By due time; the latest first among done tasks."""
    return Sort("due", descending=status == "done")


def tasks_matching(
    user: User,
    *,
    scope: str = "mine",
    status: str = "open",
    start: datetime | None = None,
    end: datetime | None = None,
    query: str | None = None,
    client_id: int | None = None,
    lead_id: int | None = None,
    deal_id: int | None = None,
    clock: Clock | None = None,
) -> QuerySet[Task]:
    """The tasks a list's filters select (the list page and the dashboard count the same):
    "mine" (assigned to or written by the user) or "all"; open, done, overdue (open and due
    before now), upcoming (open and due from now on) or any; due in [start, end)."""
    clock = clock or SystemClock()
    if status not in STATUS_FILTERS:
        raise ValidationFailed(
            {"status": msg("must be one of: %(choices)s", choices=", ".join(STATUS_FILTERS))}
        )
    qs = _scoped(user, scope)
    if status == "open":
        qs = qs.filter(is_done=False)
    elif status == "done":
        qs = qs.filter(is_done=True)
    elif status == "overdue":
        qs = qs.filter(Q(is_done=False) & ~_still_due(clock.now()))
    elif status == "upcoming":
        qs = qs.filter(Q(is_done=False) & _still_due(clock.now()))
    if start is not None:
        qs = qs.filter(due_at__gte=_utc(start))
    if end is not None:
        qs = qs.filter(due_at__lt=_utc(end))
    text = filters.search_text(query)
    if text:
        qs = qs.filter(title__icontains=text)
    for name, value in (("client_id", client_id), ("lead_id", lead_id), ("deal_id", deal_id)):
        if value is not None:
            qs = qs.filter(**{name: value}) if is_id(value) else qs.filter(id__in=[])
    return qs


def _still_due(now: datetime) -> Q:
    """Due from now on; an all-day task all through its day (it is overdue the day after)."""
    return Q(due_at__gte=now) | Q(all_day=True, due_at__gt=now - ALL_DAY)


def is_overdue(task: Task, now: datetime) -> bool:
    """Not done and its due time has passed (T3); an all-day task once its day is over."""
    if task.is_done:
        return False
    return task.due_at + ALL_DAY <= now if task.all_day else task.due_at < now


def calendar_query(
    user: User, start: datetime, end: datetime, user_ids: list[int] | None = None
) -> QuerySet[Task]:
    """Tasks due in [start, end) that the calendar shows this user (K1).

    One's own; with "tasks.view_all" everyone's, or only the chosen users'.
    """
    if end <= start:
        raise ValidationFailed({"end": msg("the end must be after the start")})
    qs = Task.filter(due_at__gte=_utc(start), due_at__lt=_utc(end))
    can_see_all = has_right(user, "tasks.view_all")
    if user_ids:
        if any(uid != user.id for uid in user_ids) and not can_see_all:
            raise PermissionDenied(msg("your group may not see other users' calendars"))
        qs = qs.filter(assignees__id__in=user_ids)
        return qs.distinct()
    if not can_see_all:
        qs = _mine(qs, user.id)
    return qs


async def due_sms_tasks(clock: Clock) -> list[Task]:
    """SMS tasks (T2) whose due time has come and that were not sent (done) yet."""
    return list(
        await Task.filter(kind="sms", is_done=False, due_at__lte=clock.now())
        .order_by("due_at", "id")
        .prefetch_related("client", "lead")
    )
