"""Linking a chat to a CRM user (B1): /start CODE and /unlink."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.context import Replier
from bot.texts import text
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
        await reply.send(text(lang, "link_done", name=str(user)))
        return
    if user is not None:
        await reply.send(text(lang, "link_already", name=str(user)))
        return
    if not code:
        await reply.send(text(lang, "link_hint"))
        return
    try:
        linked = await telegram.link_chat(code, message.chat.id, clock=clock)
    except telegram.TooManyGuesses as err:
        minutes = max(1, int(err.retry_after.total_seconds() + 59) // 60)
        await reply.send(text(lang, "link_too_many", minutes=minutes))
        return
    except telegram.LinkCodeInvalid:
        await reply.send(text(lang, "link_bad_code"))
        return
    await reply.send(text(linked.language, "link_done", name=str(linked)))


async def unlink(message: Message, user: User, lang: str, reply: Replier) -> None:
    await telegram.unlink_user(user)
    logger.info("telegram chat unlinked by %s", user.username)
    await reply.send(text(lang, "unlinked"))


def linking_router() -> Router:
    """A new router with the linking handlers (one per dispatcher)."""
    router = Router(name="linking")
    router.message.register(start, CommandStart())
    router.message.register(unlink, Command("unlink"))
    return router
