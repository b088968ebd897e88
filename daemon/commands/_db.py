"""Helpers for commands that need the database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from daemon.private_files import make_private
from models.core.db import close_db, open_db
from models.core.settings import Settings

T = TypeVar("T")


def ensure_data_dir(settings: Settings) -> None:
    """The data directory (and the SQLite file's), readable by this user only."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.database.url
    if url.startswith("sqlite://") and url != "sqlite://:memory:":
        from pathlib import Path

        Path(url[len("sqlite://") :]).parent.mkdir(parents=True, exist_ok=True)
    make_private(settings)


def with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Open the database (migrated), run `work`, close it."""

    async def runner() -> T:
        ensure_data_dir(settings)
        await open_db(
            settings.database.url, busy_timeout=settings.database.busy_timeout_seconds
        )
        try:
            return await work()
        finally:
            await close_db()

    return asyncio.run(runner())
