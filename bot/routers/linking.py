"""Linking a chat to a CRM user (B1): /start CODE and /unlink."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.context import Replier, link_hint
from bot.i18n import speaking
from models.core.clock import Clock
from models.messaging import telegram_links as telegram
from models.schema.users import User

logger = logging.getLogger(__name__)


async def start(
    message: Message,
    command: CommandObject,
    user: User | None,
    lang: str,
    reply: Replier,
    clock: Clock,
) -> None:
    code = (command.args or "").strip()
    if user is not None and not code:
        await reply.send(_welcome(user))
        return
    if user is not None:
        await reply.send(
            _("This chat is already linked to %(name)s. To change it, use /unlink first.")
            % {"name": str(user)}
        )
        return
    if not code:
        await reply.send(link_hint())
        return
    try:
        linked = await telegram.link_chat(
            code,
            message.chat.id,
            clock=clock,
            chat_name=message.chat.full_name,
            chat_username=message.chat.username or "",
        )
    except telegram.TooManyGuesses as err:
        minutes = max(1, int(err.retry_after.total_seconds() + 59) // 60)
        await reply.send(
            _("Too many wrong codes. Wait %(minutes)s min and try again.") % {"minutes": minutes}
        )
        return
    except telegram.LinkCodeInvalid:
        await reply.send(
            _(
                "That code is wrong or has expired (codes last 10 minutes and work once). "
                "Get a new one on your profile page."
            )
        )
        return
    with speaking(linked.language):  # the user's own language, now known
        await reply.send(_welcome(linked))


async def unlink(message: Message, user: User, lang: str, reply: Replier) -> None:
    await telegram.unlink_user(user)
    logger.info("telegram chat unlinked by %s", user.username)
    await reply.send(_("Chat unlinked. You will no longer receive CRM data here."))


def _welcome(user: User) -> str:
    return _(
        "Hello, %(name)s. This chat is now linked to your Centralita user. "
        "Calls, reminders and the daily digest will arrive here.\n"
        "/help shows what I can do."
    ) % {"name": str(user)}


def linking_router() -> Router:
    """A new router with the linking handlers (one per dispatcher)."""
    router = Router(name="linking")
    router.message.register(start, CommandStart())
    router.message.register(unlink, Command("unlink"))
    return router
