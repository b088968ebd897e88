"""Tasks from chat (B3): /tasks, today's and overdue ones, with done and reschedule buttons.

The /task dialog that creates one is in task_dialog.py."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.cards import local_time, zone
from bot.context import Replier, error_text
from models.core.clock import Clock
from models.core.errors import CrmError
from models.core.hub import Hub
from models.reporting.dashboard import periods
from models.schema.tasks import Task
from models.schema.users import User
from models.work.tasks import (
    complete_task,
    get_task,
    is_overdue,
    list_tasks,
    reschedule_task,
)

logger = logging.getLogger(__name__)


MAX_LISTED = 10


class TaskButton(CallbackData, prefix="task"):
    action: str  # done | hour | tomorrow
    id: int


async def _today_and_overdue(user: User, clock: Clock) -> tuple[list[Task], int]:
    """The first MAX_LISTED open tasks due by the end of the user's day, and how many in all."""
    end = periods(user, clock.now()).today_end
    return await list_tasks(user, status="open", end=end, limit=MAX_LISTED, clock=clock)


def _task_line(task: Task, user: User, lang: str, now: datetime) -> str:
    due = local_time(task.due_at, user.time_zone)
    about = task.client or task.lead  # prefetched by list_tasks
    line = f"• {due} {task.title}"
    if about is not None:
        line += f" — {about.name}"
    if is_overdue(task, now):
        line += " " + _("⚠️ overdue")
    return line


def _render(
    tasks: list[Task], total: int, user: User, lang: str, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not tasks:
        return _("No tasks for today and nothing overdue. 🎉"), None
    lines = [_("📋 Your tasks (%(count)s):") % {"count": total}]
    rows = []
    for task in tasks:
        lines.append(_task_line(task, user, lang, now))
        label = _("✅ Done") + " " + task.title
        rows.append(
            [
                InlineKeyboardButton(
                    text=label[:40], callback_data=TaskButton(action="done", id=task.id).pack()
                ),
                InlineKeyboardButton(
                    text=_("⏩ +1 h"),
                    callback_data=TaskButton(action="hour", id=task.id).pack(),
                ),
                InlineKeyboardButton(
                    text=_("📆 Tomorrow"),
                    callback_data=TaskButton(action="tomorrow", id=task.id).pack(),
                ),
            ]
        )
    if total > len(tasks):
        lines.append(
            _("… and %(count)s more. The task list in the panel shows them all.")
            % {"count": total - len(tasks)}
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def show_tasks(message: Message, user: User, lang: str, reply: Replier, clock: Clock) -> None:
    tasks, total = await _today_and_overdue(user, clock)
    body, keyboard = _render(tasks, total, user, lang, clock.now())
    await reply.send(body, keyboard)


def _new_due(task: Task, action: str, user: User, now: datetime) -> datetime:
    base = max(task.due_at, now)
    if action == "hour":
        return base + timedelta(hours=1)
    # Tomorrow at the same local time (the user's day, not UTC's).
    local = task.due_at.astimezone(zone(user.time_zone))
    tomorrow = now.astimezone(zone(user.time_zone)).date() + timedelta(days=1)
    return datetime.combine(tomorrow, local.timetz()).astimezone(task.due_at.tzinfo)


async def task_button(
    query: CallbackQuery,
    callback_data: TaskButton,
    user: User,
    lang: str,
    reply: Replier,
    clock: Clock,
    hub: Hub,
) -> None:
    try:
        if callback_data.action == "done":
            task = await complete_task(user, callback_data.id, clock=clock, hub=hub)
            notice = _("✅ Done: %(title)s") % {"title": task.title}
        else:
            task = await get_task(user, callback_data.id)
            due = _new_due(task, callback_data.action, user, clock.now())
            task = await reschedule_task(user, task.id, due)
            notice = _("📆 %(title)s → %(due)s") % {
                "title": task.title,
                "due": local_time(task.due_at, user.time_zone),
            }
    except CrmError as err:
        await query.answer(error_text(err, lang)[:200], show_alert=True)
        return
    await query.answer(notice[:200])
    if query.message is not None:
        tasks, total = await _today_and_overdue(user, clock)
        body, keyboard = _render(tasks, total, user, lang, clock.now())
        await reply.edit(query.message.message_id, body, keyboard)


def tasks_router() -> Router:
    """A new router with the task list's handlers (one per dispatcher)."""
    router = Router(name="tasks")
    router.message.register(show_tasks, Command("tasks"))
    router.callback_query.register(task_button, TaskButton.filter())
    return router
