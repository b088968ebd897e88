"""centralita telegram-link USER: print a one-time code that links a Telegram chat (B1)."""

from __future__ import annotations

import argparse
import sys

from daemon.commands._db import with_db
from models.core.clock import SystemClock
from models.core.errors import NotFound
from models.core.settings import Settings
from models.messaging import telegram_links as telegram


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "telegram-link", help="print a one-time code (10 minutes) to link a user's Telegram chat"
    )
    p.add_argument("username")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        try:
            user, code = await telegram.create_link_code_for_username(
                args.username, clock=SystemClock()
            )
        except NotFound as err:
            print(f"centralita telegram-link: {err}", file=sys.stderr)
            return 2
        minutes = int(telegram.CODE_TTL.total_seconds() // 60)
        print(code)
        print(
            f"Send '/start {code}' to the bot from {user}'s Telegram within {minutes} minutes.",
            file=sys.stderr,
        )
        return 0

    return with_db(settings, work)
