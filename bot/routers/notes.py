"""Notes from chat (B3): a reply to a call's message or its missed-call alert, the "Note" button
under a call, or /note NAME [text] (whole names; several matches are offered as buttons)."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.cards import CallButton, who
from bot.context import Replier, expired_button
from bot.routers import choosing
from bot.routers.states import NoteDialog
from models.contacts.notes import MAX_NOTE, add_note
from models.core.clock import Clock
from models.core.errors import CrmError
from models.messaging import telegram_links as telegram
from models.schema.telegram import TelegramMessage
from models.schema.users import User

logger = logging.getLogger(__name__)


def _has_contact(card: dict[str, Any]) -> bool:
    return card.get("client_id") is not None or card.get("lead_id") is not None


async def _save(
    user: User,
    card: dict[str, Any],
    body: str,
    reply: Replier,
    clock: Clock,
    call_id: int | None = None,
) -> bool:
    """Add the note; False when it is too long (the agent is told the limit). Other refusals
    reach the errors handler."""
    length = len(body.strip())
    if length > MAX_NOTE:
        await reply.send(
            _(
                "The note is too long: %(length)s characters, at most %(max)s. "
                "Send a shorter one, or split it in two."
            )
            % {"length": length, "max": MAX_NOTE}
        )
        return False
    await add_note(
        user,
        body,
        client_id=card.get("client_id"),
        lead_id=card.get("lead_id"),
        call_id=call_id,
        clock=clock,
    )
    await reply.send(_("📝 Note saved on %(who)s.") % {"who": who(card)})
    return True


def _unknown_caller() -> str:
    return _(
        "This caller is not a client or lead yet, so the note has nowhere to go. "
        "Press “➕ Create lead” under the call, then reply to it again."
    )


# A reply to a call ------------------------------------------------------------------------


async def replied_call(message: Message, user: User) -> dict[str, Any] | bool:
    """Filter: the call notification a message replies to, whether to the notification
    itself or to its missed-call alert (whose buttons name the notification)."""
    replied = message.reply_to_message
    if replied is None:
        return False
    row = await telegram.notification_replied_to(message.chat.id, replied.message_id)
    if row is None:
        row = await _notification_of_buttons(replied, user)
    if row is None or row.user_id != user.id:
        return False
    return {"call_row": row}


async def _notification_of_buttons(replied: Message, user: User) -> TelegramMessage | None:
    """The notification whose buttons a message carries (a missed-call alert has them)."""
    markup = replied.reply_markup
    for button_row in getattr(markup, "inline_keyboard", None) or []:
        for button in button_row:
            data = button.callback_data or ""
            if data.startswith(f"{CallButton.__prefix__}:"):
                try:
                    return await telegram.notification_by_id(CallButton.unpack(data).n, user)
                except (CrmError, ValueError):
                    return None
    return None


async def note_by_reply(
    message: Message, call_row: TelegramMessage, user: User, reply: Replier, clock: Clock
) -> None:
    if not _has_contact(call_row.card):
        await reply.send(_unknown_caller())
        return
    call_id = await telegram.call_for_note(call_row.linkedid, user)
    await _save(user, call_row.card, message.text or "", reply, clock, call_id)


# The "Note" button's prompt and /note --------------------------------------------------------


async def note_text(
    message: Message, user: User, reply: Replier, clock: Clock, state: FSMContext
) -> None:
    """The text typed after the prompt: the note. A note too long keeps the prompt open, so
    the agent can send a shorter one."""
    data = await state.get_data()
    card = data.get("card") or {}
    call_id = data.get("call_id")
    if data.get("notification_id") is not None:
        # Asked from a call: the call's card may have changed since (a lead created).
        try:
            row = await telegram.notification_by_id(int(data["notification_id"]), user)
        except CrmError:
            await state.clear()
            raise
        card = row.card
        call_id = await telegram.call_for_note(row.linkedid, user)
    if not _has_contact(card):
        await state.clear()
        await reply.send(_unknown_caller())
        return
    if await _save(user, card, message.text or "", reply, clock, call_id):
        await state.clear()


async def _ask_text(reply: Replier, state: FSMContext, card: dict[str, Any]) -> None:
    await state.set_state(NoteDialog.text)
    await state.update_data(card=card, choices=None, offer=None)
    await reply.send(_("Type the note for %(who)s (/cancel to stop).") % {"who": who(card)})


async def _chosen(
    card: dict[str, Any],
    body: str,
    user: User,
    reply: Replier,
    clock: Clock,
    state: FSMContext,
) -> None:
    if body:
        await state.clear()
        await _save(user, card, body, reply, clock)
    else:
        await _ask_text(reply, state, card)


async def _choose(
    typed: str, user: User, reply: Replier, clock: Clock, state: FSMContext, *, with_text: bool
) -> None:
    """Find whose note it is from what was typed: one match goes on, several are offered."""
    if with_text:
        query, found, body = await choosing.name_and_text(user, typed)
    else:
        query, found, body = typed, await choosing.find(user, typed), ""
    if not found:
        await state.set_state(NoteDialog.contact)
        await reply.send(
            choosing.nothing_found(query) + "\n" + _("Type another name or phone, or /cancel.")
        )
        return
    if len(found) == 1:
        await _chosen(choosing.card_of(found[0]), body, user, reply, clock, state)
        return
    await state.set_state(NoteDialog.contact)
    await state.update_data(body=body)
    await choosing.offer(
        reply,
        state,
        choosing.several_prompt(query),
        [(choosing.label_of(c), choosing.card_of(c)) for c in found],
    )


async def note_command(
    message: Message,
    command: CommandObject,
    user: User,
    reply: Replier,
    clock: Clock,
    state: FSMContext,
) -> None:
    typed = (command.args or "").strip()
    await state.set_data({})
    if not typed:
        await state.set_state(NoteDialog.contact)
        await reply.send(
            _("Whose note? Type a client's or lead's name or phone (/cancel to stop).")
        )
        return
    await _choose(typed, user, reply, clock, state, with_text=True)


async def note_contact(
    message: Message, user: User, reply: Replier, clock: Clock, state: FSMContext
) -> None:
    """A name or phone typed when asked whose note it is."""
    await _choose((message.text or "").strip(), user, reply, clock, state, with_text=False)


async def note_pick(
    query: CallbackQuery,
    callback_data: choosing.Pick,
    user: User,
    reply: Replier,
    clock: Clock,
    state: FSMContext,
) -> None:
    card = await choosing.picked(state, callback_data)
    if card is None:
        await expired_button(query)
        return
    await query.answer()
    body = (await state.get_data()).get("body") or ""
    await _chosen(card, body, user, reply, clock, state)


def notes_router() -> Router:
    """A new router with the notes handlers (one per dispatcher)."""
    router = Router(name="notes")
    text = (F.text, ~F.text.startswith("/"))
    router.message.register(note_text, NoteDialog.text, *text)
    router.message.register(note_contact, NoteDialog.contact, *text)
    router.callback_query.register(note_pick, NoteDialog.contact, choosing.Pick.filter())
    router.message.register(note_by_reply, F.reply_to_message, *text, replied_call)
    router.message.register(note_command, Command("note"))
    return router
