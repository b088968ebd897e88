"""Notes from chat (B3): a reply to a call message, the "Note" button, or /note QUERY TEXT."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.cards import who
from bot.context import Replier, error_text
from bot.routers.states import NoteForCall
from models.contacts.notes import add_note
from models.core.clock import Clock
from models.core.errors import CrmError
from models.messaging import telegram_links as telegram
from models.sales.contact_search import search_contacts
from models.schema.users import User

logger = logging.getLogger(__name__)


async def _save(
    user: User,
    card: dict[str, Any],
    body: str,
    lang: str,
    reply: Replier,
    clock: Clock,
    call_id: int | None = None,
) -> None:
    if card.get("client_id") is None and card.get("lead_id") is None:
        await reply.send(_("This call has no client or lead. Create the lead first."))
        return
    try:
        await add_note(
            user,
            body,
            client_id=card.get("client_id"),
            lead_id=card.get("lead_id"),
            call_id=call_id,
            clock=clock,
        )
    except CrmError as err:
        await reply.send(error_text(err, lang))
        return
    await reply.send(_("📝 Note saved on %(who)s.") % {"who": who(card)})


async def note_after_button(
    message: Message, user: User, lang: str, reply: Replier, clock: Clock, state: FSMContext
) -> None:
    data = await state.get_data()
    await state.clear()
    try:
        row = await telegram.notification_by_id(int(data["notification_id"]), user)
    except CrmError as err:
        await reply.send(error_text(err, lang))
        return
    call_id = await telegram.call_for_note(row.linkedid, user)
    await _save(user, row.card, message.text or "", lang, reply, clock, call_id)


async def note_by_reply(
    message: Message, user: User, lang: str, reply: Replier, clock: Clock
) -> None:
    assert message.reply_to_message is not None
    row = await telegram.notification_replied_to(
        message.chat.id, message.reply_to_message.message_id
    )
    if row is None or row.user_id != user.id:
        return  # a reply to something else: nothing to do
    call_id = await telegram.call_for_note(row.linkedid, user)
    await _save(user, row.card, message.text or "", lang, reply, clock, call_id)


async def note_command(
    message: Message, command: CommandObject, user: User, lang: str, reply: Replier, clock: Clock
) -> None:
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) < 2:
        await reply.send(_("Usage: /note CLIENT-OR-PHONE note text"))
        return
    query, body = parts
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
    card = {"client_id": contact.id} if contact.kind == "client" else {"lead_id": contact.id}
    card.update(name=contact.name, company=contact.company_name)
    await _save(user, card, body, lang, reply, clock)


def notes_router() -> Router:
    """A new router with the notes handlers (one per dispatcher)."""
    router = Router(name="notes")
    router.message.register(note_after_button, NoteForCall.text, F.text, ~F.text.startswith("/"))
    router.message.register(note_by_reply, F.reply_to_message, F.text, ~F.text.startswith("/"))
    router.message.register(note_command, Command("note"))
    return router
