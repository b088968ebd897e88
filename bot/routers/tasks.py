"""Tasks from chat (B3): /tasks with done and reschedule buttons, /task guided dialog."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.cards import local_time, zone
from bot.context import Replier, error_text
from bot.dates import parse_due
from bot.routers.states import TaskDialog
from models.core.clock import Clock
from models.core.errors import CrmError
from models.reporting.dashboard import periods
from models.sales.contact_search import search_contacts
from models.schema.tasks import Task
from models.schema.users import User
from models.work.tasks import (
    TaskInput,
    complete_task,
    create_task,
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


async def _today_and_overdue(user: User, clock: Clock) -> list[Task]:
    end = periods(user, clock.now()).today_end
    tasks, _ = await list_tasks(user, status="open", end=end, limit=MAX_LISTED, clock=clock)
    return tasks


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
    tasks: list[Task], user: User, lang: str, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not tasks:
        return _("No tasks for today and nothing overdue. 🎉"), None
    lines = [_("📋 Your tasks (%(count)s):") % {"count": len(tasks)}]
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
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def show_tasks(message: Message, user: User, lang: str, reply: Replier, clock: Clock) -> None:
    body, keyboard = _render(await _today_and_overdue(user, clock), user, lang, clock.now())
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
) -> None:
    try:
        if callback_data.action == "done":
            task = await complete_task(user, callback_data.id, clock=clock)
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
        body, keyboard = _render(await _today_and_overdue(user, clock), user, lang, clock.now())
        await reply.edit(query.message.message_id, body, keyboard)


# The /task dialog ------------------------------------------------------------------------


async def cancel(message: Message, lang: str, reply: Replier, state: FSMContext) -> None:
    await state.clear()
    await reply.send(_("Cancelled."))


async def task_start(message: Message, lang: str, reply: Replier, state: FSMContext) -> None:
    await state.set_state(TaskDialog.title)
    await state.set_data({})
    await reply.send(_("New task. Title? (/cancel to stop)"))


async def task_title(message: Message, lang: str, reply: Replier, state: FSMContext) -> None:
    await state.update_data(title=(message.text or "").strip()[:200])
    await state.set_state(TaskDialog.due)
    await reply.send(_("When? For example “tomorrow 10:00”, “friday 15:30”, “in 2 hours”."))


async def task_due(
    message: Message, user: User, lang: str, reply: Replier, state: FSMContext, clock: Clock
) -> None:
    typed = (message.text or "").strip()
    due = parse_due(typed, tz_name=user.time_zone, now=clock.now(), lang=lang)
    if due is None:
        await reply.send(
            _("I can't read “%(text)s” as a date. Try “tomorrow 10:00”.") % {"text": typed}
        )
        return
    if due < clock.now() - timedelta(minutes=1):
        await reply.send(_("That time is in the past. When?"))
        return
    await state.update_data(due_at=due.isoformat())
    data = await state.get_data()
    if data.get("client_id") is not None or data.get("lead_id") is not None:
        await _create(user, lang, reply, state, clock)  # started from a call: we know whom
        return
    await state.set_state(TaskDialog.contact)
    await reply.send(_("For which client or lead? Type a name or phone, or /skip."))


async def task_skip_contact(
    message: Message, user: User, lang: str, reply: Replier, state: FSMContext, clock: Clock
) -> None:
    await _create(user, lang, reply, state, clock)


async def task_contact(
    message: Message, user: User, lang: str, reply: Replier, state: FSMContext, clock: Clock
) -> None:
    query = (message.text or "").strip()
    found = await search_contacts(user, query, limit=5)
    if not found:
        await reply.send(_("Nothing found for “%(query)s”.") % {"query": query})
        return
    if len(found) > 1:
        names = ", ".join(contact.name for contact in found)
        await reply.send(
            _("Several matches for “%(query)s”: %(names)s. Be more specific.")
            % {"query": query, "names": names}
        )
        return
    contact = found[0]
    await state.update_data(**{f"{contact.kind}_id": contact.id, "who": contact.name})
    await _create(user, lang, reply, state, clock)


async def _create(user: User, lang: str, reply: Replier, state: FSMContext, clock: Clock) -> None:
    data = await state.get_data()
    due = datetime.fromisoformat(data["due_at"])
    try:
        task = await create_task(
            user,
            TaskInput(
                title=data.get("title", ""),
                due_at=due,
                client_id=data.get("client_id"),
                lead_id=data.get("lead_id"),
                remind_minutes_before=user.reminder_minutes,
            ),
            clock=clock,
        )
    except CrmError as err:
        await state.clear()
        await reply.send(error_text(err, lang))
        return
    await state.clear()
    whom = f" — {data['who']}" if data.get("who") else ""
    due_text = local_time(task.due_at, user.time_zone, "%d/%m/%Y %H:%M")
    await reply.send(
        _("📅 Task created: %(title)s, %(due)s%(who)s")
        % {"title": task.title, "due": due_text, "who": whom}
    )


def tasks_router() -> Router:
    """A new router with the tasks handlers (one per dispatcher)."""
    router = Router(name="tasks")
    router.message.register(show_tasks, Command("tasks"))
    router.callback_query.register(task_button, TaskButton.filter())
    router.message.register(cancel, Command("cancel"))
    router.message.register(task_start, Command("task"))
    router.message.register(task_title, TaskDialog.title, F.text, ~F.text.startswith("/"))
    router.message.register(task_due, TaskDialog.due, F.text, ~F.text.startswith("/"))
    router.message.register(task_skip_contact, TaskDialog.contact, Command("skip"))
    router.message.register(task_contact, TaskDialog.contact, F.text, ~F.text.startswith("/"))
    return router
