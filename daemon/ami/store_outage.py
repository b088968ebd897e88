"""How a store lane of the calls service waits out a database that does not answer.

Finished calls are never dropped for a busy database (another process holding SQLite, a lost
PostgreSQL connection): the lane keeps the batch, waits with a growing pause and tries it
again, while the calls that end meanwhile queue behind it in order. The outage is logged once
when it starts and once when it ends, not at every retry; a backlog that keeps growing is
reported at each doubling, so that an operator sees it long before memory runs short.
"""

from __future__ import annotations

import asyncio
import logging
import time

logger = logging.getLogger(__name__)

# Pause before the first retry, doubled at each failure up to the longest.
FIRST_PAUSE = 1.0
LONGEST_PAUSE = 30.0
# Finished calls kept in memory before the first "large backlog" warning (a call is ~1 KB).
BACKLOG_WARNING = 1_000


class StoreOutage:
    """One lane's state while its database does not answer."""

    def __init__(
        self,
        lane: str,
        *,
        first_pause: float = FIRST_PAUSE,
        longest_pause: float = LONGEST_PAUSE,
        backlog_warning: int = BACKLOG_WARNING,
    ) -> None:
        self.lane = lane
        self.first_pause = first_pause
        self.longest_pause = longest_pause
        self.backlog_warning = backlog_warning
        self.started_at: float | None = None  # monotonic; None while the database answers
        self.retries = 0
        self._pause = first_pause
        self._next_warning = backlog_warning

    @property
    def is_on(self) -> bool:
        return self.started_at is not None

    async def wait(self, err: BaseException, first_linkedid: str, backlog: int) -> None:
        """The batch starting with `first_linkedid` could not be stored: note the outage
        (logged once), then pause before the retry. `backlog`: calls waiting, this batch's too.
        """
        if self.started_at is None:
            self.started_at = time.monotonic()
            self._pause = self.first_pause
            logger.warning(
                "%s: the database does not answer (%s); call %s and %d other finished call(s) "
                "are kept and will be stored when it answers",
                self.lane,
                err,
                first_linkedid,
                backlog - 1,
            )
        else:
            self.retries += 1
            self._pause = min(self._pause * 2, self.longest_pause)
        if backlog >= self._next_warning:
            logger.warning(
                "%s: %d finished calls are waiting for the database (kept in memory, none "
                "dropped; a stop of the daemon now would lose them)",
                self.lane,
                backlog,
            )
            while self._next_warning <= backlog:
                self._next_warning *= 2
        await asyncio.sleep(self._pause)

    def over(self, stored: int) -> None:
        """The database answered: log the end of an outage, if there was one."""
        if self.started_at is None:
            return
        logger.info(
            "%s: the database answers again after %.0f s (%d retries); %d kept call(s) stored",
            self.lane,
            time.monotonic() - self.started_at,
            self.retries,
            stored,
        )
        self.started_at = None
        self.retries = 0
        self._next_warning = self.backlog_warning
