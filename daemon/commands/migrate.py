"""centralita migrate: apply pending schema migrations."""

from __future__ import annotations

import argparse
import asyncio

from daemon.commands._db import ensure_data_dir
from models.core.db import migrate
from models.core.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="apply pending database migrations (run also does this)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    ensure_data_dir(settings)
    applied = asyncio.run(migrate(settings.database.url))
    print("applied: " + ", ".join(applied) if applied else "the database is up to date")
    return 0
