"""Task reminders (T3): when a reminder is due, and its announcement to the panel, once.

One rule says which reminders are due; every channel uses it. The lead time is the task's own
`remind_minutes_before`, else the assignee's `reminder_minutes` (0 turns reminders off); a
task already due is not reminded (a reminder after the fact is noise); inactive users get none.

Each channel remembers on its own what it sent, so a user with the panel and Telegram gets
both, each once: Telegram through its outbox's dedupe key (bot/reminders.py), the panel
through the task's `reminded_at`. `reminded_at` is the last time the task's reminder was
announced; an assignee has been told once it is at or after their own reminder time, so
assignees with different lead times are each announced at their time and never again.
Rescheduling a task clears it (models/work/tasks.py), which re-arms the reminder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from models.core.clock import Clock
from models.core.events import TaskReminderDue
from models.core.hub import Hub
from models.schema.tasks import Task
from models.schema.users import User

logger = logging.getLogger(__name__)

# A page opened after a reminder was announced still shows it (once per browser, the page
# remembers what it showed) if it was announced this recently and the task is still open.
REPLAY_WINDOW = timedelta(hours=8)


@dataclass(frozen=True)
class DueReminder:
    """A reminder whose time has come: this task, for this assignee, `minutes` before."""

    task: Task
    user: User
    minutes: int

    @property
    def remind_at(self) -> datetime:
        return self.task.due_at - timedelta(minutes=self.minutes)


def lead_minutes(task: Task, user: User) -> int:
    """How long before the due time this assignee is reminded of this task (0: never)."""
    if task.remind_minutes_before is not None:
        return task.remind_minutes_before
    return user.reminder_minutes


# Past this many distinct lead times of their own, tasks are looked for up to the widest one.
_MANY_LEADS = 50


async def _candidates(now: datetime) -> list[Task]:
    """Open tasks not yet due whose reminder may have come: one window per lead time in use
    (the users' defaults, and each distinct lead time tasks set), so that one task reminded
    days ahead does not make every minute's run read all the tasks of those days."""
    open_ahead = Task.filter(is_done=False, due_at__gt=now)
    widest_user: Any = (
        await User.filter(is_active=True)
        .order_by("-reminder_minutes")
        .first()
        .values_list("reminder_minutes", flat=True)
    )
    own: list[Any] = (
        await open_ahead.filter(remind_minutes_before__gt=0)
        .distinct()
        .values_list("remind_minutes_before", flat=True)
    )
    windows = [
        Q(
            remind_minutes_before__isnull=True,
            due_at__lte=now + timedelta(minutes=int(widest_user or 0)),
        )
    ]
    if len(own) > _MANY_LEADS:
        windows.append(
            Q(remind_minutes_before__gt=0, due_at__lte=now + timedelta(minutes=max(own)))
        )
    else:
        windows += [
            Q(remind_minutes_before=m, due_at__lte=now + timedelta(minutes=int(m))) for m in own
        ]
    return list(
        await open_ahead.filter(Q(*windows, join_type="OR"))
        .order_by("due_at", "id")
        .prefetch_related("assignees", "client", "lead")
    )


async def reminders_due(clock: Clock) -> list[DueReminder]:
    """Every (task, assignee) whose reminder time has come and whose task is not due yet."""
    now = clock.now()
    due: list[DueReminder] = []
    for task in await _candidates(now):
        for user in task.assignees:
            if not user.is_active:
                continue
            minutes = lead_minutes(task, user)
            if minutes > 0 and task.due_at - timedelta(minutes=minutes) <= now:
                due.append(DueReminder(task, user, minutes))
    return due


def _told(reminder: DueReminder, reminded_at: datetime | None) -> bool:
    """Whether the panel already announced this assignee's reminder."""
    return reminded_at is not None and reminded_at >= reminder.remind_at


def reminder_event(reminder: DueReminder) -> TaskReminderDue:
    task, user = reminder.task, reminder.user
    about = task.client or task.lead
    return TaskReminderDue(
        task_id=task.id,
        user_id=user.id,
        title=task.title,
        due_at=task.due_at,
        minutes=reminder.minutes,
        about=about.name if about is not None else "",
        language=user.language,
        time_zone=user.time_zone,
    )


def _by_task(reminders: Iterable[DueReminder]) -> dict[int, list[DueReminder]]:
    grouped: dict[int, list[DueReminder]] = {}
    for reminder in reminders:
        grouped.setdefault(reminder.task.id, []).append(reminder)
    return grouped


async def announce_due_reminders(clock: Clock, hub: Hub) -> int:
    """Publish `TaskReminderDue` for each assignee whose reminder came and was not announced.

    The task's `reminded_at` is claimed with a compare-and-set, so two schedulers (or a run
    that overlaps the next) announce nothing twice. Returns how many were published.
    """
    now = clock.now()
    published = 0
    for reminders in _by_task(await reminders_due(clock)).values():
        task = reminders[0].task
        fresh = [r for r in reminders if not _told(r, task.reminded_at)]
        if not fresh:
            continue
        claim = Task.filter(id=task.id, due_at=task.due_at)
        if task.reminded_at is None:
            claim = claim.filter(reminded_at__isnull=True)
        else:
            claim = claim.filter(reminded_at=task.reminded_at)
        if not await claim.update(reminded_at=now):
            continue  # another run announced it meanwhile
        for reminder in fresh:
            hub.publish(reminder_event(reminder))
            published += 1
    if published:
        logger.info("%d task reminders announced to the panel", published)
    return published


async def recent_reminders(user: User, clock: Clock) -> list[TaskReminderDue]:
    """The user's reminders announced within the replay window, for a page opened since.

    Only open tasks, and only reminders that were this user's to get (announced at or after
    their own reminder time); the page shows those it has not shown before.
    """
    now = clock.now()
    tasks = (
        await Task.filter(
            assignees__id=user.id,
            is_done=False,
            reminded_at__gte=now - REPLAY_WINDOW,
            reminded_at__lte=now,
        )
        .order_by("due_at", "id")
        .distinct()
        .prefetch_related("client", "lead")
    )
    recent: list[TaskReminderDue] = []
    for task in tasks:
        minutes = lead_minutes(task, user)
        reminder = DueReminder(task, user, minutes)
        if minutes > 0 and _told(reminder, task.reminded_at):
            recent.append(reminder_event(reminder))
    return recent
