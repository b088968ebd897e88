"""Fresh table statistics for SQLite's query planner.

Without them (a database grown by use) or with a sample too small (ANALYZE bounded by
analysis_limit), SQLite guesses that "responsible_id = ?" picks a few rows and reads an agent's
clients through that index, sorting every one of them for each page of a list, instead of
walking the index of the column the list is sorted by (models/core/ordering.py): seconds
instead of milliseconds at a million clients. PostgreSQL's autovacuum keeps its own.
"""

from __future__ import annotations

import logging

from tortoise import connections

logger = logging.getLogger(__name__)


async def refresh_planner_statistics() -> None:
    """SQLite: `PRAGMA optimize`, which analyzes the tables this connection's queries used
    whose statistics are missing or stale (cheap when nothing changed). PostgreSQL: nothing."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        await conn.execute_script("PRAGMA optimize")
        logger.debug("SQLite planner statistics refreshed")
