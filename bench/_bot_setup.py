"""Shared set-up of the bot benchmarks: a database with linked agents, the local Bot API
server of the tests, the outbox worker with Telegram's limits, and the notifier on a hub."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import private_database  # noqa: E402
from bot import build_bot  # noqa: E402
from bot.delivery import KIND, TelegramOutbox, TelegramSender, chat_key  # noqa: E402
from bot.notifier import CallNotifier  # noqa: E402
from daemon.outbox_worker import OutboxWorker, RateLimit  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.hub import Hub  # noqa: E402
from models.people import users as user_ops  # noqa: E402
from models.schema.company import Company, TelephonySettings  # noqa: E402
from models.schema.users import User  # noqa: E402
from tests.bot.fake_bot_api import FakeBotApi  # noqa: E402

CHAT_BASE = 10_000_000


@dataclass
class BotRig:
    api: FakeBotApi
    hub: Hub
    worker: OutboxWorker
    agents: list[User]
    clock: SystemClock


@asynccontextmanager
async def bot_rig(
    agents: int, *, backend: str, pg_url: str, per_second: float = 25.0, sqlite_sync: str = ""
) -> AsyncIterator[BotRig]:
    async with private_database(backend, pg_url, None) as url:
        if backend == "sqlite" and sqlite_sync:
            url += f"?synchronous={sqlite_sync}"  # Tortoise passes it on as a PRAGMA
        await open_db(url)
        try:
            groups = await user_ops.ensure_standard_groups()
            await Company.create(name="Bench", default_currency="EUR", default_region="ES")
            await TelephonySettings.create()
            # Rows written directly: hashing 200 passwords would only time argon2.
            users = [
                await User.create(
                    username=f"agent{n}",
                    extension=str(200 + n),
                    full_name=f"Agent {n}",
                    group=groups["Agent"],
                    telegram_chat_id=CHAT_BASE + n,
                )
                for n in range(agents)
            ]
            api = FakeBotApi()
            await api.start()
            bot = build_bot(api.token, api.base_url)
            clock = SystemClock()
            hub = Hub()
            worker = OutboxWorker(clock=clock)
            worker.register(
                KIND, TelegramSender(bot), rate=RateLimit(per_second, 1.0), key_of=chat_key
            )
            await worker.start()
            notifier = CallNotifier(hub, TelegramOutbox(clock, wake=worker.wake, fast_lane=worker))
            notifier.start()
            try:
                yield BotRig(api, hub, worker, users, clock)
            finally:
                await notifier.stop()
                await worker.stop()
                await hub.close()
                await bot.session.close()
                await api.stop()
        finally:
            await close_db()
