"""Glue between the AMI link, the call tracker, the domain and the hub.

`on_event` feeds the tracker at once (it is pure and fast) and queues the resulting
transitions, so the link is never held up by the database. Two lanes then work on them:

* the live lane (one task, first in first out) publishes ringing, answered, stopped-ringing
  and transferred events: a pop-up never waits for another call being written. The caller's
  card of a ringing call is looked up as soon as the call is queued (a few lookups at once),
  so under a burst the lane publishes in order while the cards of the calls behind it are
  already being read;
* the store lanes write finished calls through `CallerDirectory.record_calls` (which also
  makes auto-leads) and publish ended/missed. The live lane hands a finished call over
  only after everything before it was published, so subscribers always see a call's
  events in order (rang, answered, ended). One call always goes to the same store lane.

A store lane is the one batching layer of the call path: it waits for the live lane to fall
idle before writing (on SQLite a transaction holds the one connection, and a pop-up lookup
would queue behind it), then hands every finished call queued by then to the directory at
once, which writes them in one transaction (group commit): under a burst the cost of a commit
is shared by many calls. A batch the database does not take (held by another process past
the busy timeout, a lost connection) is kept and retried in order (`StoreOutage`); never dropped.

Extensions become user ids through the one extension directory the caller directory carries
(`directory.extensions`), which the daemon reloads when users change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Iterable, Mapping

from tortoise import connections

from daemon.ami.store_outage import StoreOutage
from daemon.ami.tracker import CallTracker
from daemon.ami.tracker_types import (
    Answered,
    ChannelRoles,
    Ended,
    Ringing,
    StoppedRinging,
    Transferred,
    Transition,
)
from models.core.clock import Clock, SystemClock
from models.core.db import is_database_busy
from models.core.events import (
    CallAnswered,
    CallEnded,
    CallerCard,
    CallMissed,
    CallRang,
    CallStoppedRinging,
    CallTransferred,
    LeadCreated,
)
from models.core.hub import Hub
from models.core.settings import AmiSettings
from models.telephony.call_store import RecordedCall
from models.telephony.caller_directory import CallerDirectory

logger = logging.getLogger(__name__)

# Finished calls a store lane hands to the directory at once (it writes them together).
_STORE_BATCH = 64
# Longest a finished call waits for the live lane to fall idle before it is written anyway.
_LIVE_FIRST = 0.5
# Caller-card lookups running at once ahead of the live lane (each is a few indexed queries).
_CARD_LOOKUPS = 8
# Longest a pop-up waits for its card (a database held by another process): then the number.
_CARD_WAIT = 5.0

# A queued transition, with the lookup of its caller's card already started for a ringing call.
_Queued = tuple[Transition, "asyncio.Task[CallerCard] | None"]


class CallsService:
    """Turns AMI events into stored calls and live hub events. `start()` before feeding."""

    def __init__(
        self,
        hub: Hub,
        clock: Clock | None,
        directory: CallerDirectory,
        tracker: CallTracker,
        *,
        store_workers: int = 1,
    ) -> None:
        self.hub = hub
        self.clock = clock or SystemClock()
        self.directory = directory
        self.tracker = tracker
        self._live: asyncio.Queue[_Queued] = asyncio.Queue()
        self._card_slots = asyncio.Semaphore(_CARD_LOOKUPS)
        self._lookups: set[asyncio.Task[CallerCard]] = set()  # started, not yet published
        # SQLite writes one transaction at a time: more store lanes only pay off on PostgreSQL.
        self._stores: list[asyncio.Queue[Ended]] = [
            asyncio.Queue() for _ in range(max(1, store_workers))
        ]
        self._tasks: list[asyncio.Task[None]] = []
        # Set while the live lane has nothing to do: store lanes start a write only then (or
        # after _LIVE_FIRST at most), so a pop-up lookup never queues behind a transaction
        # that holds SQLite's one connection, and calls that end meanwhile join one commit.
        # The hub's own flag: subscribers made `after_live` (Telegram, webhooks) wait on it too.
        self._live_idle = hub.live_idle
        self._live_idle.set()
        self.extensions = directory.extensions
        self.failures = 0

    @classmethod
    def for_pbx(
        cls,
        hub: Hub,
        clock: Clock,
        directory: CallerDirectory,
        ami: AmiSettings,
        *,
        trunk_channels: Iterable[str] = (),
        devices: Mapping[str, str] | None = None,
        store_workers: int | None = None,
    ) -> CallsService:
        """The service with a tracker for this PBX: agents are `[ami] agent_channel` channels
        of the CRM's users (load `directory.extensions` before the link starts); time comes from
        `clock` when the manager sends no Timestamp header."""
        roles = ChannelRoles(
            agent_channels=(ami.agent_channel,),
            trunk_channels=tuple(trunk_channels),
            devices=dict(devices or {}),
        )
        tracker = CallTracker(roles=roles, clock=lambda: clock.now().timestamp())
        if store_workers is None:
            store_workers = _store_lanes_for_database()
        service = cls(hub, clock, directory, tracker, store_workers=store_workers)
        roles.agent_extensions = directory.extensions.known
        return service

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._work(self._live), name="calls-service-live")]
        self._tasks += [
            loop.create_task(
                self._store_work(queue, StoreOutage(f"calls store lane {n}")),
                name=f"calls-service-store-{n}",
            )
            for n, queue in enumerate(self._stores)
        ]

    async def stop(self) -> None:
        """Finish what is queued (calls already ended must still be stored), then stop."""
        if self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.drain(), timeout=10)
        for task in [*self._tasks, *self._lookups]:
            task.cancel()
        for task in [*self._tasks, *self._lookups]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        self._lookups.clear()
        self._live_idle.set()  # nothing publishes now: the hub's late subscribers wait no more
        # A lane cancelled mid-batch leaves the batch writing: it ends before the database closes.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.directory.wait_for_writes(), timeout=10)

    async def drain(self) -> None:
        """Wait until every queued transition is stored and published."""
        await self._live.join()  # first: it hands finished calls to the store lanes
        for queue in self._stores:
            await queue.join()

    # -- what the link calls ----------------------------------------------------------

    async def on_event(self, event: Mapping[str, str]) -> None:
        self._dispatch(self.tracker.feed(event))

    def expect_click_to_call(self, request_id: str, number: str) -> None:
        """A click-to-call is about to be sent: its pop-up will show `number` (see
        `CallTracker.expect_originate`). The root calls it before the Originate goes out."""
        self.tracker.expect_originate(request_id, number)

    async def on_resync(self, channels: Iterable[Mapping[str, str]]) -> None:
        self._dispatch(self.tracker.resync(list(channels), now=self.clock.now()))

    def _dispatch(self, transitions: list[Transition]) -> None:
        for transition in transitions:
            lookup = None
            if (
                isinstance(transition, Ringing)
                and _is_customer(transition)
                and self.extensions.cached(transition.caller_number) is None
            ):
                lookup = asyncio.get_running_loop().create_task(
                    self._caller_card(transition.caller_number, transition.caller_name),
                    name=f"caller-card {transition.linkedid}",
                )
                self._lookups.add(lookup)
            self._live.put_nowait((transition, lookup))

    async def _caller_card(self, number: str, caller_name: str) -> CallerCard:
        """The caller's card; a database that does not answer gives a card with the number
        only (the pop-up and the Telegram message must not wait for it or be lost)."""
        async with self._card_slots:
            try:
                async with asyncio.timeout(_CARD_WAIT):
                    return await self.directory.caller_card(number, caller_name)
            except Exception as err:
                if not (isinstance(err, TimeoutError) or is_database_busy(err)):
                    raise
                logger.warning("caller card of %s: the database does not answer (%s)", number, err)
                return CallerCard(number=number, caller_name=caller_name)

    # -- workers ----------------------------------------------------------------------

    async def _work(self, queue: asyncio.Queue[_Queued]) -> None:
        """The live lane: one transition at a time, in order."""
        while True:
            if queue.empty():
                self._live_idle.set()
            transition, lookup = await queue.get()
            self._live_idle.clear()
            try:
                if isinstance(transition, Ended):
                    key = transition.record.linkedid.encode()
                    self._stores[zlib.crc32(key) % len(self._stores)].put_nowait(transition)
                elif isinstance(transition, Ringing):
                    await self._guarded(transition, self._rang(transition, lookup))
                else:
                    await self._guarded(transition, self._publish(transition))
            finally:
                if lookup is not None:
                    self._lookups.discard(lookup)
                queue.task_done()

    async def _store_work(self, queue: asyncio.Queue[Ended], outage: StoreOutage) -> None:
        """A store lane: every finished call queued by now is handled at once, so that the
        directory writes them in one transaction (group commit) instead of one each."""
        while True:
            batch = [await queue.get()]
            if not self._live_idle.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._live_idle.wait(), _LIVE_FIRST)
            while len(batch) < _STORE_BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._store(batch, queue, outage)
            finally:
                for _ in batch:
                    queue.task_done()

    async def _store(
        self, batch: list[Ended], queue: asyncio.Queue[Ended], outage: StoreOutage
    ) -> None:
        """Store and publish a batch. While the database does not answer the batch is kept
        and retried (`StoreOutage`), the calls behind it waiting in order: none is dropped."""
        stored = 0
        while True:
            try:
                results = await self.directory.record_calls(
                    [ended.record for ended in batch], clock=self.clock
                )
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the directory settles each call; a bug or an outage
                results = [err] * len(batch)
            outcomes = list(zip(batch, results, strict=True))
            kept = [(e, r) for e, r in outcomes if isinstance(r, Exception) and is_database_busy(r)]
            stored += len(batch) - len(kept)
            await self._settled([o for o in outcomes if not any(o[0] is k for k, _ in kept)])
            if not kept:
                outage.over(stored)
                return
            batch = [ended for ended, _ in kept]
            await outage.wait(kept[0][1], batch[0].record.linkedid, len(batch) + queue.qsize())

    async def _settled(self, outcomes: list[tuple[Ended, RecordedCall | Exception]]) -> None:
        """Publish the stored calls; a call the database refused (a bug) is logged whole."""
        for ended, result in outcomes:
            if isinstance(result, Exception):
                self.failures += 1
                logger.error(
                    "call %s: storing it failed; skipped: %r",
                    ended.record.linkedid,
                    ended.record,
                    exc_info=result,
                )
                continue
            await self._guarded(ended, self._ended(ended, result))

    async def _guarded(self, transition: Transition, publishing: Awaitable[None]) -> None:
        """Publish one transition; a failure is logged with its call and never stops a lane."""
        try:
            await publishing
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failures += 1
            logger.exception(
                "call %s: handling %s failed; skipped", _linkedid(transition), transition
            )

    async def _publish(self, transition: Transition) -> None:
        """Answered, stopped ringing or transferred (ringing and ended have their own)."""
        if isinstance(transition, Answered):
            self.hub.publish(
                CallAnswered(
                    transition.linkedid,
                    transition.extension,
                    await self.extensions.user_id(transition.extension),
                    at=self.clock.now(),
                )
            )
        elif isinstance(transition, StoppedRinging):
            self.hub.publish(
                CallStoppedRinging(
                    transition.linkedid,
                    transition.extension,
                    await self.extensions.user_id(transition.extension),
                    answered_by=transition.answered_by,
                )
            )
        elif isinstance(transition, Transferred):
            self.hub.publish(
                CallTransferred(transition.linkedid, transition.from_ext, transition.to_ext)
            )

    async def _rang(self, ring: Ringing, lookup: asyncio.Task[CallerCard] | None) -> None:
        """Publish a ringing call with the card whose lookup began as it was queued."""
        direction = ring.direction
        if lookup is not None:
            card = await lookup
        else:
            card = CallerCard(number=ring.caller_number)
            colleague = self.extensions.cached(ring.caller_number)
            if colleague is not None:
                # A colleague's extension (a click-to-call from the team page, an internal
                # call): their name, and never a customer to save as a lead.
                card = CallerCard(number=ring.caller_number, name=str(colleague))
                direction = "internal"
        self.hub.publish(
            CallRang(
                linkedid=ring.linkedid,
                direction=direction,
                extension=ring.extension,
                user_id=await self.extensions.user_id(ring.extension),
                card=card,
                did=ring.did,
                at=self.clock.now(),
                action_id=ring.action_id,
            )
        )

    async def _ended(self, ended: Ended, stored: RecordedCall) -> None:
        rec = ended.record
        call_id = stored.call.id
        if stored.lead_created is not None:
            lead = stored.lead_created
            self.hub.publish(LeadCreated(lead.id, "call", lead.responsible_id))
        agent_user = await self.extensions.user_id(rec.agent_extension)
        self.hub.publish(
            CallEnded(
                linkedid=rec.linkedid,
                call_id=call_id,
                extension=rec.agent_extension,
                user_id=agent_user,
                result=rec.result,
                talk_seconds=rec.talk_seconds,
                wait_seconds=rec.wait_seconds,
                at=rec.ended_at,
            )
        )
        if rec.direction == "in" and rec.result != "answered":
            card = (
                await self._caller_card(rec.peer_number, rec.caller_name)
                if rec.peer_number
                else None
            )
            card = card or CallerCard(number=rec.peer_number)
            # Every agent it rang hears about it; nobody rang (all busy): one unaddressed event.
            for extension in rec.rang_extensions or [""]:
                user_id = await self.extensions.user_id(extension)
                self.hub.publish(CallMissed(rec.linkedid, call_id, extension, user_id, card))


def _store_lanes_for_database() -> int:
    """SQLite writes one transaction at a time (parallel writers only wait on each other);
    PostgreSQL stores calls in parallel (bench/bench_calls_service.py: about twice as fast
    with four lanes)."""
    try:
        dialect = connections.get("default").capabilities.dialect
    except Exception:  # no database opened yet: be conservative
        return 1
    return 1 if dialect == "sqlite" else 4


def _is_customer(ring: Ringing) -> bool:
    """A colleague's extension is not a customer: no lookup for internal calls."""
    return bool(ring.caller_number) and ring.direction in ("in", "out")


def _linkedid(transition: Transition) -> str:
    return transition.record.linkedid if isinstance(transition, Ended) else transition.linkedid


__all__ = ["CallsService"]
