"""When handling an update fails, the agent is told, in their language; nothing is only logged.

A refusal of the domain (CrmError: not allowed, gone, a field refused) is said as it is. Any
other exception is a bug: its traceback is logged and the agent reads "Something went wrong,
please try again". A database that did not answer in time (another process holding it past
the busy timeout) is no bug: the agent reads "the database is busy, try again" and nothing is
saved, so trying again is safe. A button's spinner is stopped too.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import Chat, ErrorEvent
from aiogram.utils.i18n import gettext as _

from bot.context import Replier, error_text
from bot.delivery import TelegramOutbox
from bot.i18n import language_of, speaking
from models.core.db import is_database_busy
from models.core.errors import CrmError

logger = logging.getLogger(__name__)


def _replier(event: ErrorEvent, data: dict[str, Any]) -> Replier | None:
    """The update's replier, or one made here when the error came before it was."""
    reply: Replier | None = data.get("reply")
    if reply is not None:
        return reply
    chat: Chat | None = data.get("event_chat")
    outbox: TelegramOutbox | None = data.get("outbox")
    if chat is None or chat.type != "private" or outbox is None:
        return None
    return Replier(outbox, chat.id, f"u:{event.update.update_id}")


def _language(data: dict[str, Any]) -> str:
    lang = data.get("lang")
    if lang:
        return str(lang)
    from_user = data.get("event_from_user")
    return language_of(from_user.language_code if from_user else None)


async def _tell(event: ErrorEvent, body: str, data: dict[str, Any]) -> None:
    query = event.update.callback_query
    if query is not None:
        try:
            await query.answer(body[:200], show_alert=True)
        except TelegramAPIError as err:  # the button's spinner times out by itself
            logger.warning("could not answer callback query %s: %s", query.id, err)
        return
    reply = _replier(event, data)
    if reply is not None:
        await reply.send_error(body)


async def refused(event: ErrorEvent, **data: Any) -> None:
    """The domain said no: say why."""
    assert isinstance(event.exception, CrmError)
    lang = _language(data)
    with speaking(lang):
        body = error_text(event.exception, lang)
    logger.info("telegram update %s refused: %s", event.update.update_id, event.exception)
    await _tell(event, body, data)


def _database_busy(event: ErrorEvent) -> bool:
    return is_database_busy(event.exception)


async def busy(event: ErrorEvent, **data: Any) -> None:
    """The database did not answer in time: nothing was saved, ask to try again."""
    logger.warning(
        "telegram update %s: the database is busy (%s)", event.update.update_id, event.exception
    )
    with speaking(_language(data)):
        body = _("The database is busy, please try again in a moment.")
    chat: Chat | None = data.get("event_chat")
    bot: Bot | None = data.get("bot")
    if event.update.callback_query is not None or chat is None or bot is None:
        await _tell(event, body, data)
        return
    # Straight to Telegram: the outbox is a table of that same busy database.
    try:
        await bot.send_message(chat.id, body)
    except TelegramAPIError as err:
        logger.warning("could not tell chat %s the database is busy: %s", chat.id, err)


async def failed(event: ErrorEvent, **data: Any) -> None:
    """A bug: log its traceback and ask the agent to try again."""
    logger.error(
        "telegram update %s failed",
        event.update.update_id,
        exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
    )
    with speaking(_language(data)):
        body = _("Something went wrong, please try again.")
    await _tell(event, body, data)


def errors_router() -> Router:
    """A new router with the errors handlers (one per dispatcher)."""
    router = Router(name="errors")
    router.errors.register(refused, ExceptionTypeFilter(CrmError))
    router.errors.register(busy, _database_busy)
    router.errors.register(failed)
    return router
