"""Calls that end while another program holds the database are kept, then stored (issue 15).

The lock is held by another connection (tests/db_lock.py) and released by the test once the
calls service has tried to write: on SQLite our writes give up after a short busy timeout and
the service says so in its log; on PostgreSQL the write waits for the table lock, seen in
pg_locks. Either way nothing may be lost, and the calls keep their order.
"""

from __future__ import annotations

import asyncio
import logging

from daemon.ami.traces import load_events
from models.core.events import CallEnded, CallMissed
from models.schema.calls import Call
from tests.daemon.test_calls_service import _service
from tests.daemon.test_tracker_corpora import AMI_DIR
from tests.db_lock import DatabaseLock, is_sqlite, short_busy_wait  # noqa: F401  (fixture)

MISSED, ANSWERED = "1795913642.30", "1795913622.26"  # the linkedids of the two traces


class _Log(logging.Handler):
    """Records the log lines that contain `words`; `seen` is set at the first."""

    def __init__(self, words: str) -> None:
        super().__init__(logging.INFO)
        self.words = words
        self.lines: list[str] = []
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.lines.append(record.getMessage())
            self.seen.set()


async def test_calls_ended_while_the_database_is_held_are_on_the_calls_list_afterwards(
    world,
    hub,
    clock,
    short_busy_wait,  # noqa: F811
):
    url = short_busy_wait
    lock = DatabaseLock(url, ("call",))
    outage, recovered = _Log("does not answer"), _Log("answers again")
    store_log = logging.getLogger("daemon.ami.store_outage")
    store_log.addHandler(outage)
    store_log.addHandler(recovered)
    level = store_log.level
    store_log.setLevel(logging.INFO)
    service, received = await _service(hub, clock)
    try:
        await lock.take()
        for name in ("inbound_missed.ami", "inbound_unknown_answered.ami"):
            for event in load_events(AMI_DIR / name):
                await service.on_event(event)
        # The service tried to store the first call while the lock was held.
        if is_sqlite(url):
            await asyncio.wait_for(outage.seen.wait(), 10)
        else:
            await lock.wait_for_writer()
        await lock.release()
        await asyncio.wait_for(service.drain(), 60)
        await hub.drain()

        calls = await Call.all().order_by("id")
        assert [(c.linkedid, c.result) for c in calls] == [
            (MISSED, "missed"),
            (ANSWERED, "answered"),
        ]
        assert [e.linkedid for e in received if isinstance(e, CallEnded)] == [MISSED, ANSWERED]
        missed = [e for e in received if isinstance(e, CallMissed)]
        assert [(m.linkedid, m.user_id) for m in missed] == [(MISSED, world.marta.id)]
        assert service.failures == 0
        if is_sqlite(url):
            # Once when the outage began and once when it ended, however many retries.
            assert len(outage.lines) == 1 and MISSED in outage.lines[0]
            assert len(recovered.lines) == 1
    finally:
        await lock.release()
        await service.stop()
        store_log.removeHandler(outage)
        store_log.removeHandler(recovered)
        store_log.setLevel(level)
