"""Opening the database and applying the schema migrations."""

from __future__ import annotations

import logging
from typing import Any

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as migrate_api

from models.schema import MODEL_MODULES

logger = logging.getLogger(__name__)

APP_LABEL = "crm"


def tortoise_config(url: str) -> dict[str, Any]:
    """The Tortoise configuration for a database URL (sqlite://PATH or postgres://...)."""
    return {
        "connections": {"default": url},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def tortoise_config_for_cli() -> dict[str, Any]:
    """Config used by ``tortoise makemigrations`` (developers only): an in-memory SQLite."""
    return tortoise_config("sqlite://:memory:")


TORTOISE_ORM = tortoise_config_for_cli()


async def migrate(url: str, target: str | None = None) -> list[str]:
    """Apply pending migrations (up to `target`, a migration name, when given).

    Returns the names applied.
    """
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(name)
            logger.info("applied migration %s.%s", app_label, name)

    await migrate_api(
        config=tortoise_config(url),
        target=f"{APP_LABEL}.{target}" if target else None,
        progress=progress,
    )
    await Tortoise.close_connections()
    return applied


async def open_db(url: str, *, run_migrations: bool = True) -> list[str]:
    """Open the database for the process, applying pending migrations first."""
    applied = await migrate(url) if run_migrations else []
    await Tortoise.init(config=tortoise_config(url))
    return applied


async def close_db() -> None:
    await connections.close_all()


async def ping() -> bool:
    """True when the database answers a trivial query."""
    conn = connections.get("default")
    await conn.execute_query("SELECT 1")
    return True
