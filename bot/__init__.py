"""The Telegram bot (aiogram 3): call notifications, notes, tasks and search from a phone.

The composition root builds the bot and the dispatcher here and passes the services in
(workflow data): handlers receive them as parameters.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand

from bot.context import CommandEndsDialog, LinkedUserMiddleware, UserLocaleMiddleware
from bot.delivery import TelegramOutbox
from bot.dialog_storage import DatabaseStorage
from bot.i18n import bot_i18n, speaking
from bot.routers.calls import calls_router
from bot.routers.dialer import dialer_router
from bot.routers.errors import errors_router
from bot.routers.help import COMMANDS, help_router
from bot.routers.linking import linking_router
from bot.routers.notes import notes_router
from bot.routers.search import search_router
from bot.routers.task_dialog import task_dialog_router
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
    arguments. Dialogs are kept in the database (`storage` replaces that in a test), and one
    chat's updates are handled one after another."""
    dp = Dispatcher(
        storage=storage or DatabaseStorage(clock),
        events_isolation=SimpleEventIsolation(),
        clock=clock,
        hub=hub,
        outbox=telegram_outbox,
        callers=callers,
    )
    # The user and their language first: the linking hint is in it too.
    dp.update.outer_middleware(UserLocaleMiddleware(bot_i18n()))
    dp.update.outer_middleware(LinkedUserMiddleware())
    dp.message.outer_middleware(CommandEndsDialog())
    # Linking first; the dialogs' handlers (tasks, notes) take their text before a reply to a
    # call is read as a note; help, with the catch-all answers, last.
    dp.include_routers(
        errors_router(),
        linking_router(),
        calls_router(),
        dialer_router(),
        tasks_router(),
        task_dialog_router(),
        notes_router(),
        search_router(),
        help_router(),
    )
    return dp


def bot_commands(lang: str) -> list[BotCommand]:
    """The command menu (setMyCommands) in `lang`: what /help lists."""
    with speaking(lang):
        return [BotCommand(command=c, description=str(d)) for c, d in COMMANDS.items()]
