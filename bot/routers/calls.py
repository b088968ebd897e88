"""Buttons under a call notification (B2) and /call (X1): create lead, note, task, call back.

/call takes a number or a whole name; several contacts or phones are offered as buttons, never
dialled silently. A failure reported later by the PBX reaches the chat (bot/call_progress.py).
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.call_progress import ClickToCallWatcher, new_request_id
from bot.cards import CallButton, who
from bot.context import Replier, error_text, expired_button
from bot.delivery import TelegramOutbox
from bot.notifier import edit_notification
from bot.routers import choosing
from bot.routers.states import CallDialog, NoteDialog, TaskDialog
from models.contacts.phones import to_e164
from models.core.clock import Clock
from models.core.errors import CrmError, TelephonyError
from models.core.events import ClickToCall
from models.core.hub import Hub
from models.messaging import telegram_links as telegram
from models.people.users import get_company
from models.schema.users import User
from models.telephony.caller_directory import CallerDirectory

logger = logging.getLogger(__name__)


async def create_lead(
    query: CallbackQuery,
    callback_data: CallButton,
    user: User,
    lang: str,
    clock: Clock,
    outbox: TelegramOutbox,
    hub: Hub,
    callers: CallerDirectory | None = None,
) -> None:
    try:
        card, created = await telegram.contact_for_notification(
            callback_data.n, user, clock=clock, callers=callers, hub=hub
        )
    except CrmError as err:
        await query.answer(error_text(err, lang)[:200], show_alert=True)
        return
    done = _("Lead created: %(name)s") if created else _("Already exists: %(name)s")
    await query.answer((done % {"name": who(card)})[:200])
    # The card now names the lead: re-render the notification (its buttons change too).
    row = await telegram.notification_by_id(callback_data.n, user)
    await edit_notification(outbox, row, user)


async def _notification_or_alert(
    query: CallbackQuery, callback_data: CallButton, user: User, lang: str
):
    """The notification a button belongs to, or None after telling the user why not."""
    try:
        return await telegram.notification_by_id(callback_data.n, user)
    except CrmError as err:
        await query.answer(error_text(err, lang)[:200], show_alert=True)
        return None


async def ask_note(
    query: CallbackQuery,
    callback_data: CallButton,
    user: User,
    lang: str,
    reply: Replier,
    state: FSMContext,
) -> None:
    row = await _notification_or_alert(query, callback_data, user, lang)
    if row is None:
        return
    if row.card.get("client_id") is None and row.card.get("lead_id") is None:
        await query.answer(
            _("This call has no client or lead. Create the lead first."), show_alert=True
        )
        return
    await state.set_state(NoteDialog.text)
    await state.set_data({"notification_id": row.id})
    await query.answer()
    await reply.send(_("Reply to this message with the note for %(who)s.") % {"who": who(row.card)})


async def start_task(
    query: CallbackQuery,
    callback_data: CallButton,
    user: User,
    lang: str,
    reply: Replier,
    state: FSMContext,
) -> None:
    row = await _notification_or_alert(query, callback_data, user, lang)
    if row is None:
        return
    await state.set_state(TaskDialog.title)
    await state.set_data(
        {
            "client_id": row.card.get("client_id"),
            "lead_id": row.card.get("lead_id"),
            "who": who(row.card),
        }
    )
    await query.answer()
    await reply.send(_("New task. Title? (/cancel to stop)"))


async def call_back(
    query: CallbackQuery, callback_data: CallButton, user: User, lang: str, reply: Replier, hub: Hub
) -> None:
    row = await _notification_or_alert(query, callback_data, user, lang)
    if row is None:
        return
    number = row.card.get("e164") or row.card.get("number") or ""
    await query.answer()
    await _click_to_call(user, number, lang, reply, hub)


async def call_command(
    message: Message,
    command: CommandObject,
    user: User,
    lang: str,
    reply: Replier,
    hub: Hub,
    state: FSMContext,
) -> None:
    target = (command.args or "").strip()
    if not target:
        await reply.send(_("Usage: /call NUMBER or client name"))
        return
    company = await get_company()
    number = to_e164(target, company.default_region)
    if number is not None:
        await _click_to_call(user, number, lang, reply, hub)
        return
    found = await choosing.find(user, target)
    if not found:
        await reply.send(choosing.nothing_found(target))
        return
    options = [
        (f"{contact.name} · {phone}", {"number": phone})
        for contact in found
        for phone in contact.phones
    ]
    if not options:
        await reply.send(
            _("No phone number for “%(query)s”.") % {"query": ", ".join(c.name for c in found)}
        )
        return
    if len(options) == 1:
        await _click_to_call(user, options[0][1]["number"], lang, reply, hub)
        return
    await state.set_state(CallDialog.choose)
    await state.set_data({})
    await choosing.offer(reply, state, choosing.several_prompt(target), options)


async def call_pick(
    query: CallbackQuery,
    callback_data: choosing.Pick,
    user: User,
    lang: str,
    reply: Replier,
    hub: Hub,
    state: FSMContext,
) -> None:
    choice = await choosing.picked(state, callback_data)
    if choice is None:
        await expired_button(query)
        return
    await state.clear()
    await query.answer()
    await _click_to_call(user, str(choice["number"]), lang, reply, hub)


async def _click_to_call(user: User, number: str, lang: str, reply: Replier, hub: Hub) -> None:
    if not user.extension:
        await reply.send(_("Your user has no extension."))
        return
    request = ClickToCall(
        user_id=user.id, extension=user.extension, number=number, request_id=new_request_id()
    )
    try:
        await hub.send(request)
    except TelephonyError as err:
        await reply.send(_("Could not call: %(reason)s") % {"reason": err.in_language(lang)})
        return
    logger.info("click-to-call %s from telegram by %s", request.request_id, user.username)
    await reply.send(_("Calling %(number)s… your extension rings first.") % {"number": number})


def calls_router() -> Router:
    """A new router with the calls handlers (one per dispatcher); it reports the failures of
    the calls it starts while the dispatcher runs."""
    router = Router(name="calls")
    watcher = ClickToCallWatcher()
    router.startup.register(watcher.start)
    router.shutdown.register(watcher.stop)
    router.callback_query.register(create_lead, CallButton.filter(F.action == "lead"))
    router.callback_query.register(ask_note, CallButton.filter(F.action == "note"))
    router.callback_query.register(start_task, CallButton.filter(F.action == "task"))
    router.callback_query.register(call_back, CallButton.filter(F.action == "back"))
    router.message.register(call_command, Command("call"))
    router.callback_query.register(call_pick, CallDialog.choose, choosing.Pick.filter())
    return router
