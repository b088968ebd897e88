"""The Telegram bot (aiogram 3): call notifications, notes, tasks and search from a phone.

The composition root builds the bot and the dispatcher here and passes the services in
(workflow data): handlers receive them as parameters.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand
from aiogram.utils.i18n import lazy_gettext as __

from bot.context import LinkedUserMiddleware, UserLocaleMiddleware
from bot.delivery import TelegramOutbox
from bot.i18n import bot_i18n, speaking
from bot.routers.calls import calls_router
from bot.routers.dialer import dialer_router
from bot.routers.linking import linking_router
from bot.routers.notes import notes_router
from bot.routers.search import search_router
from bot.routers.tasks import tasks_router
from models.core.clock import Clock
from models.core.hub import Hub
from models.telephony.caller_directory import CallerDirectory

__all__ = ["build_bot", "build_dispatcher", "bot_commands"]


def build_bot(token: str, api_url: str = "https://api.telegram.org") -> Bot:
    """A Bot talking to `api_url` (Telegram, a local Bot API server, or the tests' server)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
    return Bot(token=token, session=session)


def build_dispatcher(
    *,
    clock: Clock,
    hub: Hub,
    telegram_outbox: TelegramOutbox,
    storage: BaseStorage | None = None,
    callers: CallerDirectory | None = None,
) -> Dispatcher:
    """The dispatcher with every router; `clock`, `hub`, `outbox` and `callers` (the daemon's
    caller directory, whose per-number locks the call path holds too) reach handlers as
    arguments."""
    dp = Dispatcher(
        storage=storage or MemoryStorage(),
        clock=clock,
        hub=hub,
        outbox=telegram_outbox,
        callers=callers,
    )
    # The user and their language first: the linking hint is in it too.
    dp.update.outer_middleware(UserLocaleMiddleware(bot_i18n()))
    dp.update.outer_middleware(LinkedUserMiddleware())
    # Linking first; notes before tasks so that a reply to a call message is a note, and the
    # dialogs' state handlers see their text before any catch-all.
    dp.include_routers(
        linking_router(),
        calls_router(),
        dialer_router(),
        tasks_router(),
        notes_router(),
        search_router(),
    )
    return dp


_COMMANDS = {
    "tasks": __("Today's and overdue tasks"),
    "task": __("Create a task"),
    "find": __("Search clients and leads"),
    "note": __("Add a note"),
    "call": __("Call a number or client"),
    "unlink": __("Unlink this chat"),
}


def bot_commands(lang: str) -> list[BotCommand]:
    """The command menu (setMyCommands) in `lang`."""
    with speaking(lang):
        return [BotCommand(command=c, description=str(d)) for c, d in _COMMANDS.items()]
