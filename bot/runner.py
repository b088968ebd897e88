"""Running the bot: long polling (the default) as one named task, started and stopped here."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError

from bot import bot_commands
from models.messaging import telegram_links as telegram

logger = logging.getLogger(__name__)


async def remember_identity(bot: Bot) -> None:
    """Ask Telegram who the bot is (getMe) and keep its @username for the profile's t.me link."""
    me = await bot.get_me()
    await telegram.remember_bot_username(me.username or "")
    logger.info("telegram bot is @%s", me.username)


async def announce_commands(bot: Bot) -> None:
    """The command menu: Spanish by default, English for English-speaking clients."""
    await bot.set_my_commands(bot_commands("es"))
    await bot.set_my_commands(bot_commands("en"), language_code="en")


class PollingRunner:
    """Long polling in a named task; `stop` ends it and waits for it."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, *, polling_timeout: int = 30) -> None:
        self._dp = dispatcher
        self._bot = bot
        self._timeout = polling_timeout
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            # A webhook left set from an earlier webhook-mode run would make getUpdates fail.
            await self._bot.delete_webhook(drop_pending_updates=False)
            await remember_identity(self._bot)
            await announce_commands(self._bot)
        except TelegramUnauthorizedError:
            logger.error("telegram refused the bot token; the bot is not started")
            return
        except TelegramAPIError as err:
            # Telegram unreachable at start: polling below keeps retrying with backoff.
            logger.warning("telegram set-up failed (%s); polling anyway", err)
        self._task = asyncio.get_running_loop().create_task(
            self._dp.start_polling(
                self._bot,
                polling_timeout=self._timeout,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=self._dp.resolve_used_update_types(),
            ),
            name="telegram-polling",
        )
        logger.info("telegram bot polling started")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        with contextlib.suppress(RuntimeError):  # polling had not started yet
            await self._dp.stop_polling()
        try:
            await asyncio.wait_for(task, 5)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        logger.info("telegram bot polling stopped")
