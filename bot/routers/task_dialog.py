"""/task: a task created step by step (B3): title, due time read in the agent's language and zone
and confirmed with buttons, then the client or lead (optional: /skip).

Started from a call's "Task" button the client or lead is known and that step is left out.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.context import Replier, expired_button, trimmed
from bot.dates import parse_due, spoken_date
from bot.routers import choosing
from bot.routers.states import TaskDialog
from models.core.clock import Clock
from models.schema.tasks import Task
from models.schema.users import User
from models.work.tasks import TaskInput, create_task

logger = logging.getLogger(__name__)

# The longest title the task list keeps (the table's column).
MAX_TITLE: int = Task._meta.fields_map["title"].max_length  # type: ignore[attr-defined]


class DueButton(CallbackData, prefix="due"):
    """Under the due time read from the agent's words: "ok" or "change" that time (`at`, in
    Unix seconds: the buttons of a time typed before do nothing)."""

    action: str
    at: int


def _ask_due() -> str:
    return _("When? For example “tomorrow at 10”, “friday 15:30”, “tonight”, “in 2 hours”.")


async def _ask_title(reply: Replier, state: FSMContext) -> None:
    await state.set_state(TaskDialog.title)
    await reply.send(_("New task. Title? (/cancel to stop)"))


async def _take_title(typed: str, reply: Replier, state: FSMContext) -> None:
    title = typed.strip()
    if len(title) > MAX_TITLE:
        await reply.send(
            _("The title is too long (%(length)s characters, at most %(max)s). A shorter one?")
            % {"length": len(title), "max": MAX_TITLE}
        )
        return
    await state.update_data(title=title)
    await state.set_state(TaskDialog.due)
    await reply.send(_ask_due())


async def task_start(
    message: Message, command: CommandObject, reply: Replier, state: FSMContext
) -> None:
    """/task, or /task TITLE to give the title at once."""
    await state.set_data({})
    if command.args and command.args.strip():
        await _take_title(command.args, reply, state)
        return
    await _ask_title(reply, state)


async def task_title(message: Message, reply: Replier, state: FSMContext) -> None:
    await _take_title(message.text or "", reply, state)


async def task_due(
    message: Message, user: User, lang: str, reply: Replier, state: FSMContext, clock: Clock
) -> None:
    """The due time in words: read it and ask the agent to confirm what was understood."""
    typed = (message.text or "").strip()
    now = clock.now()
    due = parse_due(typed, tz_name=user.time_zone, now=now, lang=lang)
    if due is None:
        await reply.send(
            _("I can't read “%(text)s” as a date.") % {"text": trimmed(typed, 60)}
            + " "
            + _ask_due()
        )
        return
    if due < now - timedelta(minutes=1):
        when = spoken_date(due, user.time_zone, lang, now=now)
        await reply.send(_("That is in the past (%(when)s). When, then?") % {"when": when})
        return
    await state.update_data(due_at=due.isoformat())
    await state.set_state(TaskDialog.confirm)
    at = int(due.timestamp())
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("✅ Confirm"), callback_data=DueButton(action="ok", at=at).pack()
                ),
                InlineKeyboardButton(
                    text=_("✏️ Change"), callback_data=DueButton(action="change", at=at).pack()
                ),
            ]
        ]
    )
    when = spoken_date(due, user.time_zone, lang, now=now)
    await reply.send(_("📅 %(when)s. Is that right?") % {"when": when}, keyboard)


async def due_button(
    query: CallbackQuery,
    callback_data: DueButton,
    user: User,
    lang: str,
    reply: Replier,
    state: FSMContext,
    clock: Clock,
) -> None:
    data = await state.get_data()
    due = datetime.fromisoformat(data["due_at"])
    if int(due.timestamp()) != callback_data.at:
        await expired_button(query)
        return
    when = spoken_date(due, user.time_zone, lang, now=clock.now())
    await query.answer()
    if query.message is not None:  # the question loses its buttons: it has been answered
        await reply.edit(query.message.message_id, _("📅 %(when)s") % {"when": when})
    if callback_data.action != "ok":
        await state.set_state(TaskDialog.due)
        await reply.send(_ask_due())
        return
    if data.get("client_id") is not None or data.get("lead_id") is not None:
        await _create(user, lang, reply, state, clock)  # started from a call: we know whom
        return
    await state.set_state(TaskDialog.contact)
    await reply.send(_("For which client or lead? Type a name or phone, or /skip."))


async def task_skip_contact(
    message: Message, user: User, lang: str, reply: Replier, state: FSMContext, clock: Clock
) -> None:
    await state.update_data(client_id=None, lead_id=None, who=None)
    await _create(user, lang, reply, state, clock)


async def task_contact(
    message: Message, user: User, lang: str, reply: Replier, state: FSMContext, clock: Clock
) -> None:
    typed = (message.text or "").strip()
    found = await choosing.find(user, typed)
    if not found:
        await reply.send(
            choosing.nothing_found(typed) + "\n" + _("Type another name or phone, or /skip.")
        )
        return
    if len(found) > 1:
        await choosing.offer(
            reply,
            state,
            choosing.several_prompt(typed),
            [(choosing.label_of(c), choosing.card_of(c)) for c in found],
        )
        return
    await _take_contact(choosing.card_of(found[0]), user, lang, reply, state, clock)


async def task_pick(
    query: CallbackQuery,
    callback_data: choosing.Pick,
    user: User,
    lang: str,
    reply: Replier,
    state: FSMContext,
    clock: Clock,
) -> None:
    card = await choosing.picked(state, callback_data)
    if card is None:
        await expired_button(query)
        return
    await query.answer()
    await _take_contact(card, user, lang, reply, state, clock)


async def _take_contact(
    card: dict[str, object],
    user: User,
    lang: str,
    reply: Replier,
    state: FSMContext,
    clock: Clock,
) -> None:
    await state.update_data(
        client_id=card.get("client_id"), lead_id=card.get("lead_id"), who=card.get("name")
    )
    await _create(user, lang, reply, state, clock)


async def _create(user: User, lang: str, reply: Replier, state: FSMContext, clock: Clock) -> None:
    """Save the task; a refusal reaches the errors handler and ends the dialog."""
    data = await state.get_data()
    await state.clear()
    task = await create_task(
        user,
        TaskInput(
            title=data.get("title", ""),
            due_at=datetime.fromisoformat(data["due_at"]),
            client_id=data.get("client_id"),
            lead_id=data.get("lead_id"),
            remind_minutes_before=user.reminder_minutes,
        ),
        clock=clock,
    )
    whom = f" — {data['who']}" if data.get("who") else ""
    when = spoken_date(task.due_at, user.time_zone, lang, now=clock.now())
    await reply.send(
        _("📅 Task created: %(title)s, %(due)s%(who)s")
        % {"title": task.title, "due": when, "who": whom}
    )


def task_dialog_router() -> Router:
    """A new router with the /task dialog's handlers (one per dispatcher)."""
    router = Router(name="task-dialog")
    text = (F.text, ~F.text.startswith("/"))
    router.message.register(task_start, Command("task"))
    router.message.register(task_title, TaskDialog.title, *text)
    router.message.register(task_due, TaskDialog.due, *text)
    # A date typed instead of pressing a button is a new answer to "when?".
    router.message.register(task_due, TaskDialog.confirm, *text)
    router.callback_query.register(due_button, TaskDialog.confirm, DueButton.filter())
    router.message.register(task_skip_contact, TaskDialog.contact, Command("skip"))
    router.message.register(task_contact, TaskDialog.contact, *text)
    router.callback_query.register(task_pick, TaskDialog.contact, choosing.Pick.filter())
    return router
