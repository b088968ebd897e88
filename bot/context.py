"""What every update needs: the linked user, their language, and a way to reply (the outbox).

`LinkedUserMiddleware` resolves the CRM user of the chat. A chat that is not linked gets the
linking hint and nothing else: its update reaches no handler except /start CODE.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import InlineKeyboardMarkup, TelegramObject, Update

from bot.delivery import TelegramOutbox
from bot.texts import language_of, text
from models.core.errors import Conflict, CrmError, NotFound, PermissionDenied, ValidationFailed
from models.messaging import outbox
from models.messaging import telegram_links as telegram

logger = logging.getLogger(__name__)


class Replier:
    """Replies to one update through the outbox, each with a dedupe key derived from the
    update, so that an update delivered twice (webhook retry, polling restart) answers once."""

    def __init__(self, telegram_outbox: TelegramOutbox, chat_id: int, update_key: str) -> None:
        self.chat_id = chat_id
        self._outbox = telegram_outbox
        self._key = update_key
        self._count = 0

    async def answered_before(self) -> bool:
        """Whether this very update was handled already (Telegram delivered it again)."""
        return await outbox.id_by_dedupe_key(f"tg:re:{self._key}:1") is not None

    def _next_key(self) -> str:
        self._count += 1
        return f"tg:re:{self._key}:{self._count}"

    async def send(self, body: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
        await self._outbox.send(self.chat_id, body, keyboard=keyboard, dedupe_key=self._next_key())

    async def edit(
        self, message_id: int, body: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> None:
        await self._outbox.edit(
            self.chat_id,
            body,
            message_id=message_id,
            keyboard=keyboard,
            dedupe_key=self._next_key(),
        )


def _update_key(update: Update, chat_id: int) -> str:
    if update.message is not None:
        return f"m:{chat_id}:{update.message.message_id}"
    if update.callback_query is not None:
        return f"q:{update.callback_query.id}"
    return f"u:{update.update_id}"


def _is_linking(update: Update) -> bool:
    """/start (with or without a code) is the one thing an unlinked chat may do."""
    message = update.message
    if message is None or not message.text:
        return False
    first = message.text.split(maxsplit=1)[0]
    return first == "/start" or first.startswith("/start@")


class LinkedUserMiddleware(BaseMiddleware):
    """Outer middleware on updates: puts `user`, `lang` and `reply` into the handler data."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        chat = data.get("event_chat")
        if chat is None or chat.type != "private":
            return None  # the bot talks to agents in private chats only
        from_user = data.get("event_from_user")
        user = await telegram.user_for_chat(chat.id)
        lang = language_of(
            user.language if user else (from_user.language_code if from_user else None)
        )
        reply = Replier(data["outbox"], chat.id, _update_key(event, chat.id))
        if await reply.answered_before():
            # A webhook retry or a polling restart: its changes (a note, a moved task) are
            # made already, and doing them again would duplicate them.
            logger.info("telegram update %s handled already; skipped", event.update_id)
            return None
        data.update(user=user, lang=lang, reply=reply)
        if user is None and not _is_linking(event):
            hint = text(lang, "link_hint")
            if event.callback_query is not None:
                await event.callback_query.answer(hint[:200], show_alert=True)
            else:
                await reply.send(hint)
            return None
        return await handler(event, data)


def error_text(err: CrmError, lang: str) -> str:
    """A domain error as a chat reply."""
    if isinstance(err, PermissionDenied):
        return text(lang, "error_denied")
    if isinstance(err, NotFound):
        return text(lang, "error_not_found")
    if isinstance(err, ValidationFailed):
        return text(lang, "error_invalid", reason="; ".join(err.fields.values()))
    if isinstance(err, Conflict):
        return text(lang, "error_invalid", reason=str(err))
    return text(lang, "error_invalid", reason=str(err))
