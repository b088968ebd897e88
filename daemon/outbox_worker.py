"""The outbox worker: sends due outbox rows through the sender registered for their kind.

Guarantees (see models/messaging/outbox.py for the row life):
- a row is sent at most once while the process lives: it is claimed by a conditional update
  and marked sent right after the remote side accepted it;
- nothing is lost: a row claimed by a process that died becomes due again when its lease
  runs out, temporary failures (5xx, network) are retried with exponential backoff, a 429's
  `retry_after` is honoured, refusals (4xx) are marked dead at once, repeated temporary
  failures after `max_attempts`;
- each kind may carry a rate limit: a global rate and a minimum interval per key (Telegram:
  about 30 messages a second overall, one a second per chat). Rows held back by the limit
  are not claimed, so they stay due and keep their order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from daemon.supervisor import Supervisor
from models.core.clock import Clock
from models.core.db import is_database_busy
from models.messaging import outbox
from models.schema.outbox import OutboxMessage

logger = logging.getLogger(__name__)

Sender = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
KeyOf = Callable[[dict[str, Any]], Hashable]
GiveUp = Callable[[dict[str, Any], str], Awaitable[None]]

TASK_NAME = "outbox-worker"


# Shortest pause between passes while every due row waits for a rate limit.
_HELD_PAUSE = 0.05


class RateLimit:
    """A token bucket for the overall rate plus a minimum interval between sends per key.

    The bucket holds a fifth of a second's worth of tokens, so that in any one-second window
    at most about 1.2 x `per_second` messages leave (25/s configured -> at most 30 in a second).
    """

    def __init__(
        self,
        per_second: float = 25.0,
        per_key_interval: float = 1.0,
        *,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.per_key_interval = per_key_interval
        self.capacity = max(1.0, per_second / 5)
        self._timer = timer
        self._tokens = self.capacity
        self._updated = timer()
        self._key_free_at: dict[Hashable, float] = {}

    def _refill(self) -> float:
        now = self._timer()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.per_second)
        self._updated = now
        return now

    def wait_time(self, key: Hashable) -> float:
        """Seconds until a message for `key` may leave (0 when it may leave now)."""
        now = self._refill()
        key_wait = self._key_free_at.get(key, 0.0) - now
        bucket_wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.per_second
        return max(0.0, key_wait, bucket_wait)

    def take(self, key: Hashable) -> None:
        now = self._refill()
        self._tokens -= 1
        self._key_free_at[key] = now + self.per_key_interval
        if len(self._key_free_at) > 10_000:
            self._key_free_at = {k: t for k, t in self._key_free_at.items() if t > now}

    def hold(self, key: Hashable, seconds: float) -> None:
        """The remote side asked us to wait (429): keep `key` quiet for `seconds`."""
        now = self._timer()
        self._key_free_at[key] = max(self._key_free_at.get(key, 0.0), now + seconds)


@dataclass
class _Route:
    sender: Sender
    rate: RateLimit | None
    key_of: KeyOf | None
    # Told when a row of this kind is given up after its last retry (the sender's own
    # records, e.g. an email's status, then say "failed" instead of "queued" for ever).
    on_give_up: GiveUp | None = None


class OutboxWorker:
    """Claims due outbox rows and delivers them; one named background task."""

    def __init__(
        self,
        *,
        clock: Clock,
        poll_interval: float = 1.0,
        batch_size: int = 100,
        concurrency: int = 16,
        max_attempts: int = 10,
        base_backoff: float = 1.0,
        max_backoff: float = 600.0,
        lease_seconds: float = 120.0,
        supervisor: Supervisor | None = None,
    ) -> None:
        self._clock = clock
        # The root passes its supervisor; a worker on its own (tests, benchmarks) has one.
        self._supervisor = supervisor or Supervisor()
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._semaphore = asyncio.Semaphore(concurrency)
        self._max_attempts = max_attempts
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self.lease_seconds = lease_seconds  # how long a claimed row stays this worker's
        self._routes: dict[str, _Route] = {}
        self._wake = asyncio.Event()
        self._running = False
        self._stopping = False
        self._handed: deque[OutboxMessage] = deque()

    def register(
        self,
        kind: str,
        sender: Sender,
        *,
        rate: RateLimit | None = None,
        key_of: KeyOf | None = None,
        on_give_up: GiveUp | None = None,
    ) -> None:
        """Send rows of `kind` with `sender`, within `rate` per `key_of(payload)` when given;
        `on_give_up(payload, error)` is awaited when a row is given up after its retries."""
        self._routes[kind] = _Route(sender, rate, key_of, on_give_up)

    def wake(self) -> None:
        """Something was enqueued: look at the outbox now instead of at the next poll."""
        self._wake.set()

    def hand_over(self, row: OutboxMessage) -> None:
        """Send a row written already claimed by this process (models.messaging.outbox.FastLane).

        It is sent from memory, within the rate limits, without the claim's round trip. If
        its lease runs out first it is left to the table path; if the process dies, the
        lease runs out and any worker sends it.
        """
        if row.kind in self._routes:
            self._handed.append(row)
        self._wake.set()

    async def start(self) -> None:
        if not self._running:
            self._running = True
            self._stopping = False
            self._supervisor.start(TASK_NAME, self._run)
            logger.info(
                "outbox worker started for %s", ", ".join(sorted(self._routes)) or "nothing"
            )

    async def stop(self, grace: float = 5.0) -> None:
        """Let the sends in flight finish (up to `grace` seconds), then stop."""
        if not self._running:
            return
        self._running = False
        self._stopping = True
        self._wake.set()
        await self._supervisor.stop_task(TASK_NAME, grace=grace)
        # Rows handed over but held back by the rate limit: due again at once for the next
        # worker instead of after their lease.
        while self._handed:
            row = self._handed.popleft()
            await outbox.mark_retry(row.id, "", at=self._clock.now(), count_attempt=False)
        logger.info("outbox worker stopped")

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            self._wake.clear()
            try:
                sleep_for = await self.run_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as err:
                failures += 1
                sleep_for = min(self._max_backoff, self._base_backoff * 2 ** min(failures, 10))
                if is_database_busy(err):  # a restart of the database: nothing is lost
                    logger.warning("outbox waits for the database (%s); next try in %.1f s",
                                   err, sleep_for)  # fmt: skip
                else:
                    logger.exception("outbox pass failed; next try in %.1f s", sleep_for)
            if sleep_for > 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), sleep_for)

    async def run_once(self) -> float:
        """Deliver what is due and allowed now; return how long to sleep before the next pass."""
        kinds = list(self._routes)
        if not kinds:
            return self._poll_interval
        now = self._clock.now()
        held: set[tuple[str, Hashable]] = set()
        rate_wait = self._poll_interval
        chosen: list[tuple[OutboxMessage, _Route]] = []
        handed = self._take_handed(now, held, chosen)
        waits = [w for w in handed if w > 0]
        if waits:
            rate_wait = min(rate_wait, *waits)
        try:
            due = (
                await OutboxMessage.filter(kind__in=kinds, next_attempt_at__lte=now)
                .filter(status__in=[outbox.PENDING, outbox.SENDING])
                .order_by("id")  # written order: per chat, a message before its edits
                .limit(self._batch_size)
            )
        except Exception:
            # The database does not answer: the rows handed over stay in memory for the next
            # pass (dropped, they would wait for their lease, two minutes, to go out).
            self._handed.extendleft(reversed([row for row, _ in chosen]))
            raise
        direct = {row.id for row, _ in chosen}
        handed_ids = direct | {row.id for row in self._handed}
        for row in due:
            if row.id in handed_ids:
                continue
            route = self._routes[row.kind]
            if route.rate is not None:
                key = (row.kind, route.key_of(row.payload) if route.key_of else None)
                if key in held:
                    continue  # an earlier message for the same key waits: keep the order
                wait = route.rate.wait_time(key[1])
                if wait > 0:
                    held.add(key)
                    rate_wait = min(rate_wait, wait)
                    continue
                route.rate.take(key[1])
                held.add(key)  # one message per key per pass
            chosen.append((row, route))
        sent = 0
        if chosen:
            to_claim = [row for row, _ in chosen if row.id not in direct]
            claimed = await self._claim(to_claim) if to_claim else set()
            jobs = [
                self._deliver(row, route)
                for row, route in chosen
                if row.id in claimed or row.id in direct
            ]
            sent = len(jobs)
            await asyncio.gather(*jobs)
        if sent:
            return 0.0  # look again at once: more may be due, or held rows say how long to wait
        if rate_wait < self._poll_interval:
            # Due rows wait for a rate limit: none may leave before `rate_wait`, and a message
            # handed over wakes the worker at once. A pass at most every _HELD_PAUSE: under a
            # backlog held per chat (a notification's edits), every chat's own expiry was a
            # pass reading the batch again, a seventh of a loaded instance's time
            # (bench/load.py). The bucket holds a fifth of a second, so the pace is kept.
            return max(rate_wait, _HELD_PAUSE)
        return min(rate_wait, await self._until_next_due(kinds))

    def _take_handed(
        self,
        now: datetime,
        held: set[tuple[str, Hashable]],
        chosen: list[tuple[OutboxMessage, _Route]],
    ) -> list[float]:
        """Move handed-over rows the rate limit allows into `chosen`; return the waits."""
        waits: list[float] = []
        keep: deque[OutboxMessage] = deque()
        while self._handed:
            row = self._handed.popleft()
            if row.next_attempt_at <= now:
                continue  # its lease ran out: the table path owns it now
            route = self._routes[row.kind]
            if route.rate is not None:
                key = (row.kind, route.key_of(row.payload) if route.key_of else None)
                wait = 0.0 if key not in held else -1.0
                if key not in held:
                    wait = route.rate.wait_time(key[1])
                held.add(key)
                if wait != 0:
                    waits.append(wait)
                    keep.append(row)
                    continue
                route.rate.take(key[1])
            chosen.append((row, route))
        self._handed = keep
        return waits

    async def _claim(self, rows: list[OutboxMessage]) -> set[int]:
        now = self._clock.now()
        lease_until = now + timedelta(seconds=self.lease_seconds)
        claimed = set(
            await outbox.claim_ids([row.id for row in rows], now=now, lease_until=lease_until)
        )
        for row in rows:
            if row.id in claimed:  # what the conditional update wrote
                row.status = outbox.SENDING
                row.attempts += 1
                row.next_attempt_at = lease_until
        return claimed

    async def _until_next_due(self, kinds: list[str]) -> float:
        at = await outbox.next_due_at(kinds)
        if at is None:
            return self._poll_interval
        return max(0.0, min(self._poll_interval, (at - self._clock.now()).total_seconds()))

    def _backoff(self, attempts: int) -> float:
        return min(self._max_backoff, self._base_backoff * 2 ** max(0, attempts - 1))

    async def _deliver(self, row: OutboxMessage, route: _Route) -> None:
        async with self._semaphore:
            try:
                result = await route.sender(row.payload)
            except asyncio.CancelledError:
                raise  # the row stays claimed; its lease runs out and it is sent again
            except outbox.NotReady as err:
                at = self._clock.now() + timedelta(seconds=err.delay)
                await outbox.mark_retry(row.id, str(err), at=at, count_attempt=False)
            except outbox.PermanentFailure as err:
                await outbox.mark_dead(row.id, str(err))
            except outbox.RetryLater as err:
                await self._retry(row, route, str(err), err.delay)
            except Exception as err:  # a bug or an unexpected library error: retry, loudly
                logger.exception("outbox sender for %s failed on message %s", row.kind, row.id)
                await self._retry(row, route, repr(err), None)
            else:
                await outbox.mark_sent(row.id, result or {}, clock=self._clock)

    async def _retry(
        self, row: OutboxMessage, route: _Route, error: str, delay: float | None
    ) -> None:
        if delay is not None:
            # The remote side said when (429 retry_after): honour it, and do not count it as
            # a failure of the message.
            if route.rate is not None:
                route.rate.hold(route.key_of(row.payload) if route.key_of else None, delay)
            at = self._clock.now() + timedelta(seconds=delay)
            logger.warning("outbox message %s: %s; retry in %.1f s", row.id, error, delay)
            await outbox.mark_retry(row.id, error, at=at, count_attempt=False)
            return
        if row.attempts >= self._max_attempts:
            # The sender's records first: once the row reads "dead", they say so too (and a
            # crash in between leaves the row claimed, given up again after its lease).
            if route.on_give_up is not None:
                try:
                    await route.on_give_up(row.payload, error)
                except Exception:
                    logger.exception("outbox: telling %s of a given-up message failed", row.kind)
            await outbox.mark_dead(row.id, f"gave up after {row.attempts} attempts: {error}")
            return
        wait = self._backoff(row.attempts)
        logger.warning(
            "outbox message %s attempt %s failed: %s; retry in %.1f s",
            row.id,
            row.attempts,
            error,
            wait,
        )
        await outbox.mark_retry(row.id, error, at=self._clock.now() + timedelta(seconds=wait))
