"""The auto-dialer's runner (Q1): dials each running list's entries one after another.

One named task per running list. Each round it resolves the entry left `dialing` (by a
restart: see below), waits `gap_seconds` after the last call's hang-up, waits while
the agent is on another call or outside working hours (G3) or the PBX link is down, claims
the next entry atomically (models/telephony/dialer.py), and places the call as a click-to-call
command
on the hub: the agent's extension rings first, then the number. It learns the outcome from
the hub: ClickToCallProgress (its request id gives the call's linked id, or the failure),
then CallEnded for that linked id (the stored call with its result).

A crash (issue 19) leaves the entry being dialed `dialing`, with the call's linked id stored
as soon as the PBX named it. The next process finds the call again: on the PBX, whose live
channels its link reads at login (CoreShowChannels; the tracker adopts them and stores the
call when it ends), then among the stored calls (`call_of_entry`: by request id, linked id,
or the number and the agent's extension). The entry gets the call's real result and the list
goes on; it is never dialed again. Only when the link is up and the PBX has no call of the
agent for `restart_grace` seconds (10 by default) with no call stored either is it recorded
as failed, saying that the call ended during the restart and its outcome is unknown.

The gap is measured on the loop's monotonic clock from the moment the runner hears of the
hang-up: the call's last Hangup event when the link's events are fed to `on_ami_event`, else
the first failure or the stored call through the hub; after a restart, from the stored
`last_ended_at`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from daemon.ami.directory import ChannelDirectory
from daemon.supervisor import Supervisor
from models.core.clock import Clock
from models.core.errors import CrmError
from models.core.events import (
    CallAnswered,
    CallEnded,
    CallMissed,
    CallRang,
    CallStoppedRinging,
    CallTransferred,
    ClickToCall,
    ClickToCallProgress,
)
from models.core.hub import Hub, Subscription
from models.people.schedule import is_working
from models.schema.dialer import DialerEntry
from models.telephony import dialer as dialer_ops
from models.telephony import dialer_runs
from models.telephony.live_board import LiveBoard

logger = logging.getLogger(__name__)

_EVENTS = (
    CallRang,
    CallAnswered,
    CallStoppedRinging,
    CallTransferred,
    CallEnded,
    CallMissed,
    ClickToCallProgress,
)
# After a click-to-call failed on a call the PBX did create, how long to wait for the stored
# call before recording the failure without it.
_STORED_CALL_GRACE = 10.0
# After a restart, with the PBX link up and no call of the agent's on the PBX: how long a
# call may still take to be stored (or the PBX to create the Originate's channel) before the
# entry being dialed is recorded as lost.
RESTART_GRACE = 10.0
# The most the runner wakes up before the gap ends to prepare the next call.
_MAX_LEAD = 0.1
TASK_NAME = "dialer"


@dataclass
class _Placed:
    """A call placed for an entry, waiting for its end."""

    entry_id: int
    request_id: str
    linkedid: str | None = None
    failure: str | None = None
    call_id: int | None = None
    result: str | None = None
    heard_end_at: float | None = None  # loop time the hang-up was heard
    changed: asyncio.Event = field(default_factory=asyncio.Event)


def channel_calls(directory: ChannelDirectory) -> Callable[[str], set[str]]:
    """`agent_calls` read from the PBX link's channel directory (daemon/ami/directory.py)."""

    def calls(extension: str) -> set[str]:
        prefix = directory.device_of(extension) + "-"
        return {c.linkedid for c in directory.channels.values() if c.name.startswith(prefix)}

    return calls


def live_calls(directory: ChannelDirectory) -> Callable[[], set[str]]:
    """`live_linkedids` read from the PBX link's channel directory."""
    return lambda: {c.linkedid for c in directory.channels.values()}


class DialerRunner:
    """Runs every list whose status is `running`; started and stopped by the composition root."""

    def __init__(
        self,
        hub: Hub,
        clock: Clock,
        *,
        gap_seconds: float = 5.0,
        poll_interval: float = 1.0,
        resolve_timeout: float = 180.0,
        restart_grace: float = RESTART_GRACE,
        link_ready: Callable[[], bool] | None = None,
        agent_calls: Callable[[str], set[str]] | None = None,
        live_linkedids: Callable[[], set[str]] | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.hub = hub
        # The root passes its supervisor; a runner on its own (tests, benchmarks) has one.
        self._supervisor = supervisor or Supervisor()
        self.clock = clock
        self.gap_seconds = gap_seconds
        self.poll_interval = poll_interval
        self.resolve_timeout = resolve_timeout
        self.restart_grace = restart_grace
        self.link_ready = link_ready or (lambda: True)
        self.board = LiveBoard()
        # extension -> linked ids of the calls its phone is in (ringing or talking); the PBX
        # link's channel directory sees calls the agent dialed by hand, which the hub does not.
        self.agent_calls = agent_calls or self._board_calls
        # Linked ids with a live channel (from the same directory): with `on_ami_event` fed,
        # the hang-up is dated by the last Hangup instead of by the stored call.
        self.live_linkedids = live_linkedids
        self.placed_calls = 0  # Originates asked for, for the health page and benchmarks
        self._placed: dict[str, _Placed] = {}
        self._by_linkedid: dict[str, _Placed] = {}
        self._ended_at: dict[int, float] = {}  # list id -> loop time of its last hang-up
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._watching = False
        self._subscription: Subscription | None = None
        self._board_changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._lead = 0.0  # seconds from claim to the Originate's answer, averaged

    # -- life -----------------------------------------------------------------------

    async def start(self) -> None:
        if self._watching:
            return
        self._watching = True
        self._subscription = self.hub.subscribe("dialer", self._on_event, *_EVENTS)
        self._supervisor.start(TASK_NAME, self._watch)
        logger.info("dialer started (gap %.1f s)", self.gap_seconds)

    async def stop(self) -> None:
        """Stop the watcher first (it starts the lists' tasks), then each list's task."""
        if self._watching:
            self._watching = False
            await self._supervisor.stop_task(TASK_NAME)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._subscription is not None:
            await self.hub.unsubscribe(self._subscription)
            self._subscription = None

    def wake(self) -> None:
        """A list was started or resumed: look now instead of at the next poll."""
        self._wake.set()

    async def _watch(self) -> None:
        while True:
            try:
                for list_id in await dialer_ops.running_list_ids():
                    task = self._tasks.get(list_id)
                    if task is None or task.done():
                        self._tasks[list_id] = asyncio.get_running_loop().create_task(
                            self._run_list(list_id), name=f"dialer:list-{list_id}"
                        )
                        self._tasks[list_id].add_done_callback(
                            functools.partial(self._forget, list_id)
                        )
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("dialer: could not read the running lists")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    def _forget(self, list_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(list_id) is task:
            del self._tasks[list_id]
        if not task.cancelled() and task.exception() is not None:
            logger.error("dialer list %s stopped by an error", list_id, exc_info=task.exception())

    # -- hub events -----------------------------------------------------------------

    async def _on_event(self, event: object) -> None:
        if isinstance(event, ClickToCallProgress):
            placed = self._placed.get(event.request_id)
            if placed is None:
                return
            if event.linkedid and placed.linkedid is None:
                placed.linkedid = event.linkedid
                self._by_linkedid[event.linkedid] = placed
            if event.stage == "failed":
                placed.failure = event.reason or "the call could not be placed"
                placed.heard_end_at = placed.heard_end_at or asyncio.get_running_loop().time()
            placed.changed.set()
            return
        self.board.apply(event)
        if isinstance(event, CallEnded):
            placed = self._by_linkedid.get(event.linkedid)
            if placed is not None:
                placed.call_id = event.call_id
                placed.result = event.result
                placed.heard_end_at = placed.heard_end_at or asyncio.get_running_loop().time()
                placed.changed.set()
        if isinstance(event, CallEnded | CallMissed | CallStoppedRinging):
            self._board_changed.set()

    async def on_ami_event(self, event: dict[str, str]) -> None:
        """The PBX link's raw events (after the channel directory saw them): the last Hangup
        of a placed call dates its end, before the stored call comes through the hub."""
        if event.get("Event") != "Hangup" or self.live_linkedids is None:
            return
        placed = self._by_linkedid.get(event.get("Linkedid", ""))
        if placed is None or placed.heard_end_at is not None:
            return
        if event.get("Linkedid") not in self.live_linkedids():
            placed.heard_end_at = asyncio.get_running_loop().time()

    def _board_calls(self, extension: str) -> set[str]:
        return {c.linkedid for c in self.board.calls_of(extension)}

    def _agent_busy(self, extension: str) -> bool:
        own = {p.linkedid for p in self._placed.values()}
        return bool(self.agent_calls(extension) - own)

    # -- one list ---------------------------------------------------------------------

    async def _run_list(self, list_id: int) -> None:
        loop = asyncio.get_running_loop()
        while True:
            dialer = await dialer_ops.get_list(list_id)
            if dialer is None:
                return
            owner = dialer.owner
            extension = owner.extension or ""
            stuck = await dialer_runs.dialing_entry(list_id)
            if stuck is not None:
                await self._resolve_after_restart(stuck, extension)
                continue
            if dialer.status != dialer_ops.RUNNING:
                return
            # Wake up early by the time a claim and an Originate usually take, so that the
            # Originate reaches the PBX when the gap ends rather than that much later.
            wait = self._gap_left(list_id, dialer.last_ended_at, loop.time()) - self._lead
            if wait > 0:
                await asyncio.sleep(wait)
            if not self.link_ready():
                await asyncio.sleep(self.poll_interval)
                continue
            if self._agent_busy(extension):
                self._board_changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._board_changed.wait(), self.poll_interval)
                continue
            if not is_working(owner, self.clock.now()):
                logger.debug("dialer list %s waits: %s is off duty", list_id, owner.username)
                await asyncio.sleep(max(self.poll_interval, 30.0))
                continue
            request_id = f"dial-{list_id}-{uuid.uuid4().hex[:16]}"
            claimed_at = loop.time()
            entry = await dialer_runs.claim_next(list_id, request_id, clock=self.clock)
            if entry is None:
                if await dialer_runs.finish_if_done(list_id, clock=self.clock):
                    logger.info("dialer list %s finished", list_id)
                return
            await self._dial(list_id, entry, owner.id, extension, claimed_at)

    def _gap_left(self, list_id: int, last_ended_at, now_loop: float) -> float:
        ended = self._ended_at.get(list_id)
        if ended is not None:
            return self.gap_seconds - (now_loop - ended)
        if last_ended_at is None:
            return 0.0
        # Carried over from the stored time once, then counted on the loop's clock. A stored
        # time ahead of ours (clocks apart) counts as a hang-up just now.
        elapsed = max(0.0, (self.clock.now() - last_ended_at).total_seconds())
        self._ended_at[list_id] = now_loop - elapsed
        return self.gap_seconds - elapsed

    async def _dial(
        self, list_id: int, entry: DialerEntry, user_id: int, extension: str, claimed_at: float
    ) -> None:
        loop = asyncio.get_running_loop()
        placed = _Placed(entry.id, entry.request_id or "")
        self._placed[placed.request_id] = placed
        try:
            self.placed_calls += 1
            try:
                await self.hub.send(
                    ClickToCall(user_id, extension, entry.e164 or entry.number, placed.request_id)
                )
                took = min(_MAX_LEAD, loop.time() - claimed_at)
                self._lead = 0.8 * self._lead + 0.2 * took
            except CrmError as err:
                placed.failure = str(err)
                placed.heard_end_at = placed.heard_end_at or loop.time()
            await self._wait_end(placed)
            if placed.linkedid:
                await dialer_runs.set_linkedid(entry.id, placed.linkedid)
            if placed.call_id is None and placed.linkedid:
                stored = await dialer_runs.call_of_entry(entry, extension)
                placed.call_id = stored.id if stored else None
                placed.result = placed.result or (stored.result if stored else None)
            result = self._result(placed)
            await dialer_runs.record_result(
                entry.id,
                result,
                reason=placed.failure if result != "answered" and placed.failure else "",
                call_id=placed.call_id,
                linkedid=placed.linkedid,
                ended_at=self.clock.now(),
            )
            self._ended_at[list_id] = placed.heard_end_at or loop.time()
            logger.info("dialer list %s: %s -> %s", list_id, entry.e164, result)
        finally:
            self._placed.pop(placed.request_id, None)
            if placed.linkedid:
                self._by_linkedid.pop(placed.linkedid, None)

    async def _wait_end(self, placed: _Placed) -> None:
        """Until the stored call is heard of, or the failure is known and no call will come."""
        loop = asyncio.get_running_loop()
        silent_since = loop.time()
        saved_linkedid = False
        while placed.result is None:
            if placed.linkedid and not saved_linkedid:
                # Stored at once: after a crash the call is found by it, on the PBX and stored.
                await dialer_runs.set_linkedid(placed.entry_id, placed.linkedid)
                saved_linkedid = True
            if placed.failure is not None:
                if placed.linkedid is None:
                    return  # the PBX never created the call: nothing will be stored
                grace = _STORED_CALL_GRACE - (loop.time() - (placed.heard_end_at or 0))
                if grace <= 0:
                    return
                timeout = grace
            elif placed.linkedid is None:
                # Neither progress nor call yet: the PBX may have lost the request.
                timeout = self.resolve_timeout - (loop.time() - silent_since)
                if timeout <= 0:
                    placed.failure = "the PBX never reported on this call"
                    placed.heard_end_at = loop.time()
                    return
            else:
                timeout = None  # an answered call lasts as long as the conversation
            placed.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(placed.changed.wait(), timeout)

    @staticmethod
    def _result(placed: _Placed) -> str:
        stored = dialer_runs.CALL_RESULTS.get(placed.result or "", "failed")
        if placed.failure is None:
            return stored
        # The click-to-call failed: the client never talked, whatever the agent's leg did.
        if stored in ("busy", "no_answer"):
            return stored
        failure = placed.failure.lower()
        if "number is busy" in failure:
            return "busy"
        if "nobody answered" in failure:
            return "no_answer"
        return "failed"

    async def _resolve_after_restart(self, entry: DialerEntry, extension: str) -> None:
        """An entry left `dialing` by a process that died: its call was placed, so it is
        resolved from the stored call, never dialed again.

        While the PBX still has the call (its linked id among the live channels, or any call
        of the agent's phone when the id was not known yet), the runner waits for its end: the
        tracker adopted it at login and stores it when it hangs up. A call the PBX no longer
        has ended during the restart: after `restart_grace` seconds without a stored call the
        entry is recorded as failed, saying so. While the link is down nothing can be told:
        `resolve_timeout` bounds that wait.
        """
        loop = asyncio.get_running_loop()
        down_until = loop.time() + self.resolve_timeout
        gone_since: float | None = None
        while True:
            call = await dialer_runs.call_of_entry(entry, extension)
            if call is not None:
                await dialer_runs.record_result(
                    entry.id,
                    dialer_runs.result_of_call(call),
                    call_id=call.id,
                    linkedid=call.linkedid,
                    # Our clock, not the PBX's: the gap is counted from when we learnt of it.
                    ended_at=self.clock.now(),
                )
                logger.info(
                    "dialer: entry %s resolved after a restart from its call %s (%s)",
                    entry.id,
                    call.linkedid,
                    call.result,
                )
                return
            now = loop.time()
            reason = ""
            if not self.link_ready():
                gone_since = None
                if now > down_until:
                    reason = dialer_ops.PBX_AWAY_IN_RESTART.msgid
            elif self._still_on_pbx(entry, extension):
                gone_since = None
            elif gone_since is None:
                gone_since = now
            elif now - gone_since > self.restart_grace:
                reason = dialer_ops.ENDED_IN_RESTART.msgid
            if reason:
                await dialer_runs.record_result(
                    entry.id, "failed", reason=reason, ended_at=self.clock.now()
                )
                logger.warning("dialer: entry %s lost in a restart: %s", entry.id, reason)
                return
            self._board_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._board_changed.wait(), self.poll_interval)

    def _still_on_pbx(self, entry: DialerEntry, extension: str) -> bool:
        """Whether the PBX has a call that may be the entry's (read after the link's resync)."""
        if entry.linkedid and self.live_linkedids is not None:
            return entry.linkedid in self.live_linkedids()
        return bool(self.agent_calls(extension))
