"""The outbox: messages written with the change that causes them, sent later by a worker.

`enqueue` is called inside the caller's transaction, so a message exists if and only if the
change that caused it was committed. The worker (daemon/outbox_worker.py) claims due rows,
hands each to the sender registered for its kind and records the outcome here.

Row life: pending -> sending (claimed, with a lease) -> sent | pending (retry) | dead.
A row whose lease ran out (the process died while sending) is claimable again, so nothing
is lost; a sent row is never claimed again, so nothing is sent twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models.core.clock import Clock
from models.schema.outbox import OutboxMessage

logger = logging.getLogger(__name__)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
DEAD = "dead"


class FastLane(Protocol):
    """A worker in this process that takes rows written already claimed and sends them from
    memory, saving the claim's round trip to the database (the ringing call's hot path)."""

    lease_seconds: float

    def hand_over(self, row: OutboxMessage) -> None: ...


class SendFailed(Exception):
    """A sender could not deliver a message; subclasses say what the worker should do."""


class RetryLater(SendFailed):
    """A temporary failure (5xx, network): retry with backoff, or after `delay` seconds if given."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class NotReady(SendFailed):
    """The message depends on one not sent yet: try again soon, not counted as an attempt."""

    def __init__(self, message: str, delay: float = 0.5) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentFailure(SendFailed):
    """The remote side refused the message for good (4xx): it is marked dead at once."""


async def enqueue(
    kind: str,
    payload: dict[str, Any],
    *,
    clock: Clock,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    key_is_new: bool = False,
    lease_until: datetime | None = None,
) -> OutboxMessage:
    """Add a message to send; with a `dedupe_key` already used, return the existing row instead.

    Runs in the caller's transaction when there is one (Tortoise binds the connection by
    context). The insert is wrapped in its own savepoint so that a duplicate key does not
    abort the caller's transaction on PostgreSQL. A caller whose key cannot exist yet (it
    contains the id of a row created in the same transaction) passes `key_is_new` and saves
    the look-up and the savepoint: that is the ringing call's hot path.

    With `lease_until` the row is written already claimed by this process (see `FastLane`):
    no other worker touches it before then, and if this process dies it is sent after that.
    """
    values: dict[str, Any] = {
        "kind": kind,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "status": PENDING,
        "next_attempt_at": not_before or clock.now(),
    }
    if lease_until is not None:
        values.update(status=SENDING, attempts=1, next_attempt_at=lease_until)
    if dedupe_key is None or key_is_new:
        return await OutboxMessage.create(**values)
    existing = await OutboxMessage.get_or_none(dedupe_key=dedupe_key)
    if existing is not None:
        return existing
    try:
        async with in_transaction():
            return await OutboxMessage.create(**values)
    except IntegrityError:
        return await OutboxMessage.get(dedupe_key=dedupe_key)


async def claim_ids(ids: list[int], *, now: datetime, lease_until: datetime) -> list[int]:
    """Claim the given rows if they are still due; return the ids this caller won.

    Each claim is a conditional update, so two workers never claim the same row. A row left
    in `sending` by a worker that died is due again once its lease has run out.
    """
    claimed: list[int] = []
    for row_id in ids:
        updated = await OutboxMessage.filter(
            Q(status=PENDING) | Q(status=SENDING), id=row_id, next_attempt_at__lte=now
        ).update(status=SENDING, next_attempt_at=lease_until, attempts=F("attempts") + 1)
        if updated:
            claimed.append(row_id)
    return claimed


async def mark_sent(message_id: int, result: dict[str, Any], *, clock: Clock) -> None:
    await OutboxMessage.filter(id=message_id).update(
        status=SENT, result=result, sent_at=clock.now(), last_error=""
    )


async def mark_retry(
    message_id: int, error: str, *, at: datetime, count_attempt: bool = True
) -> None:
    changes: dict[str, Any] = {"status": PENDING, "next_attempt_at": at, "last_error": error[:2000]}
    if not count_attempt:
        changes["attempts"] = F("attempts") - 1
    await OutboxMessage.filter(id=message_id, status=SENDING).update(**changes)


async def mark_dead(message_id: int, error: str) -> None:
    logger.warning("outbox message %s is dead: %s", message_id, error)
    await OutboxMessage.filter(id=message_id).update(status=DEAD, last_error=error[:2000])


async def get_status(message_id: int) -> str | None:
    row = await OutboxMessage.filter(id=message_id).only("id", "status").first()
    return row.status if row else None


async def next_due_at(kinds: list[str]) -> datetime | None:
    """When the earliest pending or claimed message of `kinds` is due (to sleep until then)."""
    row = (
        await OutboxMessage.filter(Q(status=PENDING) | Q(status=SENDING), kind__in=kinds)
        .only("id", "next_attempt_at")
        .order_by("next_attempt_at")
        .first()
    )
    return row.next_attempt_at if row else None


async def counts(kind: str | None = None) -> dict[str, int]:
    """How many messages are in each state (health page, tests, benchmarks)."""
    query = OutboxMessage.all() if kind is None else OutboxMessage.filter(kind=kind)
    result = {PENDING: 0, SENDING: 0, SENT: 0, DEAD: 0}
    for row in await query.only("id", "status"):
        result[row.status] = result.get(row.status, 0) + 1
    return result


async def id_by_dedupe_key(dedupe_key: str) -> int | None:
    row = await OutboxMessage.filter(dedupe_key=dedupe_key).only("id").first()
    return row.id if row else None


async def purge_finished(*, clock: Clock, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete sent and dead messages older than `older_than`; return how many.

    A week is longer than any redelivery the dedupe keys guard against (Telegram retries an
    update for a day at most; a reminder's key carries its due time; a digest's its day).
    """
    before = clock.now() - older_than
    return await OutboxMessage.filter(status__in=[SENT, DEAD], created_at__lt=before).delete()
