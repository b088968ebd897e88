"""Who answers for an import under way (several instances, issue 19).

An import runs in one process: the instance whose panel started it, or `centralita import`.
While it runs, that process renews the batch's lease (`lease_until`) every third of the
lease; a new or resumed import gets one when it is recorded, before a process picks it up.
An import whose lease ran out belongs to a process that died: any instance then marks it
interrupted (`mark_interrupted(expired_only=True)`), and its page offers to resume or undo it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from models.core.clock import Clock
from models.core.db import is_database_busy
from models.schema.imports import ImportBatch

logger = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
UNFINISHED = ("pending", "running")


def lease_end(clock: Clock, seconds: float = LEASE_SECONDS) -> datetime:
    return clock.now() + timedelta(seconds=seconds)


async def keep_lease(batch_id: int, clock: Clock, seconds: float = LEASE_SECONDS) -> None:
    """Renew the lease of a running import until cancelled (the import took it as it started,
    so the first renewal is a third of the lease later). A database that does not answer for
    a while is waited for: the lease is long enough to outlive a short outage."""
    while True:
        await asyncio.sleep(seconds / 3)
        try:
            await ImportBatch.filter(id=batch_id, status__in=UNFINISHED).update(
                lease_until=lease_end(clock, seconds)
            )
        except Exception as err:
            if not is_database_busy(err):
                raise
            logger.warning("import %s: its lease could not be renewed now: %s", batch_id, err)
