"""The bot against a local Bot API server: real aiogram, real dispatcher, real outbox worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot import build_bot, build_dispatcher
from bot.delivery import KIND, TelegramOutbox, TelegramSender, chat_key
from bot.notifier import CallNotifier
from daemon.outbox_worker import OutboxWorker, RateLimit
from models.messaging import telegram_links as telegram
from models.schema.users import User
from tests.bot.fake_bot_api import ChatMessage, FakeBotApi

LUIS_CHAT = 555_101
MARTA_CHAT = 555_102


@pytest.fixture
async def api():
    server = FakeBotApi()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(api) -> Bot:
    b = build_bot(api.token, api.base_url)
    yield b
    await b.session.close()


def make_worker(clock, bot: Bot, *, rate: RateLimit | None = None) -> OutboxWorker:
    worker = OutboxWorker(clock=clock, poll_interval=0.05, base_backoff=1.0)
    # Tests that are not about rate limits must not wait a second between two messages.
    worker.register(
        KIND,
        TelegramSender(bot),
        rate=rate or RateLimit(per_second=1000, per_key_interval=0),
        key_of=chat_key,
    )
    return worker


@pytest.fixture
async def worker(clock, bot):
    w = make_worker(clock, bot)
    await w.start()
    yield w
    await w.stop()


@pytest.fixture
def tg_outbox(clock, worker) -> TelegramOutbox:
    return TelegramOutbox(clock, wake=worker.wake, fast_lane=worker)


@pytest.fixture
async def dp(clock, hub, tg_outbox) -> Dispatcher:
    return build_dispatcher(clock=clock, hub=hub, telegram_outbox=tg_outbox)


@pytest.fixture
async def notifier(hub, tg_outbox):
    n = CallNotifier(hub, tg_outbox)
    n.start()
    yield n
    await n.stop()


async def link(user: User, chat_id: int, clock) -> User:
    code = await telegram.create_link_code(user, clock=clock)
    return await telegram.link_chat(code, chat_id, clock=clock)


async def eventually(check: Callable[[], Any], within: float = 5.0) -> Any:
    """Wait until `check()` is truthy (the outbox worker sends in the background)."""
    async with asyncio.timeout(within):
        while not (result := check()):  # noqa: ASYNC110 - polling a plain predicate
            await asyncio.sleep(0.01)
    return result


@dataclass
class Chat:
    """Drives the dispatcher as one Telegram chat would, and reads what the chat shows."""

    dp: Dispatcher
    bot: Bot
    api: FakeBotApi
    chat_id: int

    async def feed(self, update: dict[str, Any]) -> None:
        await self.dp.feed_update(
            self.bot, Update.model_validate(update, context={"bot": self.bot})
        )

    def messages(self) -> list[ChatMessage]:
        return self.api.chat(self.chat_id)

    async def wait_messages(self, count: int) -> list[ChatMessage]:
        return await eventually(lambda: len(self.messages()) >= count and self.messages())

    async def last_text(self, count: int) -> str:
        return (await self.wait_messages(count))[-1].text


@pytest.fixture
async def linked(world, clock):
    await link(world.luis, LUIS_CHAT, clock)
    await link(world.marta, MARTA_CHAT, clock)
    return world


@pytest.fixture
def luis_chat(dp, bot, api) -> Chat:
    return Chat(dp, bot, api, LUIS_CHAT)
