"""What every update needs: the linked user, their language, and a way to reply (the outbox).

`UserLocaleMiddleware` (aiogram's I18n middleware) resolves the CRM user of the chat and makes
the update speak their language: the bot's texts (`_`, bot/i18n.py) and the domain's messages.
`LinkedUserMiddleware` then gates the update: a chat that is not linked gets the linking hint
and nothing else, its update reaching no handler except /start CODE.
`CommandEndsDialog` makes every command but /skip end the chat's open dialog, so that a note
prompt never captures what the agent types after /tasks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    Update,
)
from aiogram.utils.i18n import I18nMiddleware
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.delivery import TelegramOutbox
from bot.i18n import language_of
from models.core.errors import CrmError, NotFound, PermissionDenied, ValidationFailed, in_language
from models.core.translation import set_reader_language
from models.messaging import outbox
from models.messaging import telegram_links as telegram

logger = logging.getLogger(__name__)


# Telegram refuses a message longer than this (counted in UTF-16 code units).
MESSAGE_LIMIT = 4096


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def message_parts(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` in pieces Telegram accepts, cut between lines where it can."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if _units(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while _units(line) > limit:  # one line longer than a message: cut it
            cut = limit
            while _units(line[:cut]) > limit:
                cut -= 1
            parts.append(line[:cut])
            line = line[cut:]
        current = line
    if current.strip() or not parts:
        parts.append(current)
    return parts


def trimmed(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut (for echoing input)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Replier:
    """Replies to one update through the outbox, each with a dedupe key derived from the
    update, so that an update delivered twice (webhook retry, polling restart) answers once.
    A reply longer than Telegram's limit goes as several messages (the buttons on the last)."""

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
        parts = message_parts(body)
        for number, part in enumerate(parts, 1):
            await self._outbox.send(
                self.chat_id,
                part,
                keyboard=keyboard if number == len(parts) else None,
                dedupe_key=self._next_key(),
            )

    async def edit(
        self, message_id: int, body: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> None:
        """Change a message in place (cut to one message: an edit cannot add messages)."""
        first = message_parts(body, MESSAGE_LIMIT - 1)[0]
        await self._outbox.edit(
            self.chat_id,
            first if first == body else first + "…",
            message_id=message_id,
            keyboard=keyboard,
            dedupe_key=self._next_key(),
        )

    async def send_error(self, body: str) -> None:
        """The answer to an update whose handling failed, once however often it is retried."""
        await self._outbox.send(self.chat_id, body, dedupe_key=f"tg:re:{self._key}:error")


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


def _private_chat(data: dict[str, Any]) -> Chat | None:
    chat: Chat | None = data.get("event_chat")
    return chat if chat is not None and chat.type == "private" else None


class UserLocaleMiddleware(I18nMiddleware):
    """Outer middleware on updates, first: puts `user` and `lang` into the handler data and
    makes the update read in `lang`.

    The language is the linked user's setting, else the Telegram app's, else Spanish.
    """

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chat = _private_chat(data)
        user = await telegram.user_for_chat(chat.id) if chat is not None else None
        from_user = data.get("event_from_user")
        # A profile without a language yet reads like the Telegram app it writes from.
        lang = language_of(
            (user.language if user else None)
            or (from_user.language_code if from_user else None)
        )
        data.update(user=user, lang=lang)
        # What the domain says while handling this update reads in the same language.
        set_reader_language(lang)
        return lang


def link_hint() -> str:
    """What an unlinked chat is told, whatever it sends."""
    return _(
        "This chat is not linked to Centralita CRM.\n"
        "Open your profile in the CRM → Telegram and tap the link there, "
        "or send here the code it shows: /start CODE"
    )


class LinkedUserMiddleware(BaseMiddleware):
    """Outer middleware on updates, after `UserLocaleMiddleware`: puts `reply` into the handler
    data, drops updates handled before, and stops those of unlinked chats with the hint."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        chat = _private_chat(data)
        if chat is None:
            return None  # the bot talks to agents in private chats only
        reply = Replier(data["outbox"], chat.id, _update_key(event, chat.id))
        if await reply.answered_before():
            # A webhook retry or a polling restart: its changes (a note, a moved task) are
            # made already, and doing them again would duplicate them.
            logger.info("telegram update %s handled already; skipped", event.update_id)
            return None
        data["reply"] = reply
        if data["user"] is None and not _is_linking(event):
            hint = link_hint()
            if event.callback_query is not None:
                await event.callback_query.answer(hint[:200], show_alert=True)
            else:
                await reply.send(hint)
            return None
        return await handler(event, data)


# What the domain's field names mean to someone typing in a chat.
FIELD_LABELS = {
    "q": __("search"),
    "query": __("search"),
    "text": __("note"),
    "title": __("title"),
    "due_at": __("due time"),
    "name": __("name"),
}


def error_text(err: CrmError, lang: str) -> str:
    """A domain error as a chat reply (in the update's locale; `lang` for the domain's part)."""
    if isinstance(err, PermissionDenied):
        return _("You are not allowed to do that.")
    if isinstance(err, NotFound):
        return _("It no longer exists.")
    if isinstance(err, ValidationFailed):
        reason = "; ".join(in_language(message, lang) for message in err.fields.values())
        labels = [str(FIELD_LABELS[name]) for name in err.fields if name in FIELD_LABELS]
        if labels:
            return _("Could not do it (%(what)s): %(reason)s") % {
                "what": ", ".join(labels),
                "reason": reason,
            }
    else:
        reason = err.in_language(lang)
    return _("Could not do it: %(reason)s") % {"reason": reason}


# Commands that belong to the dialog they are typed in, rather than ending it.
DIALOG_COMMANDS = frozenset({"skip"})


def command_name(text: str) -> str | None:
    """The command a text starts with ("/task@centralita_bot x" -> "task"), or None."""
    if not text.startswith("/") or len(text) < 2:
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()


class CommandEndsDialog(BaseMiddleware):
    """Outer middleware on messages: a command other than /skip ends the open dialog before
    its handler runs, and tells it which one that was (`ended_dialog`, for /cancel)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Message)
        state: FSMContext | None = data.get("state")
        name = command_name(event.text or "")
        if state is not None and name is not None and name not in DIALOG_COMMANDS:
            ended = await state.get_state()
            if ended is not None:
                await state.clear()
                data["raw_state"] = None  # what the handlers' state filters read
            data["ended_dialog"] = ended
        return await handler(event, data)


async def expired_button(query: CallbackQuery) -> None:
    """A button of a dialog that has ended, or of a message the bot no longer acts on."""
    await query.answer(_("This button has expired. Send the command again."), show_alert=True)
