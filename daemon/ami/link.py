"""The AMI link: one connection to Asterisk, kept alive for the daemon's whole life.

It logs in, resyncs the live channels (CoreShowChannels) after every (re)connect, hands every
event as ``dict[str, str]`` to ``on_event`` in stream order, pings with a watchdog, and
reconnects with exponential backoff. A refused login is reported once at ERROR and retried
slowly. ``send_action`` gives every request a timeout. See daemon.ami.guards for the
panoramisk defects this works around, and daemon.ami.wire for how messages are framed, read
and written (the same module the PBX simulator and the trace loaders use).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from daemon.ami.guards import (
    AmiConnectionLost,
    GuardedAction,
    GuardedManager,
    GuardedProtocol,
    message_to_dict,
)
from models.core.clock import Clock, SystemClock
from models.core.errors import Message, TelephonyError, msg
from models.core.settings import AmiSettings

logger = logging.getLogger(__name__)

EventCallback = Callable[[dict[str, str]], Awaitable[None]]
ResyncCallback = Callable[[list[dict[str, str]]], Awaitable[None]]

_FIRST_RETRY = 1.0
# Pause reading the socket when this many events wait for on_event; resume at a quarter.
_HIGH_WATER = 20_000


class LoginRefusedError(TelephonyError):
    """Asterisk refused the username or secret."""


def fan_out(*callbacks: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
    """One callback for the link that calls each of `callbacks` in turn (each failure logged).

    The calls service and the telephony commands both follow the event stream.
    """

    async def call_all(item: Any) -> None:
        for callback in callbacks:
            try:
                await callback(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("AMI consumer %r failed; skipped", callback)

    return call_all


class AmiLink:
    """The connection to the PBX. ``start()`` it once; ``stop()`` cancels and awaits its tasks."""

    def __init__(
        self,
        settings: AmiSettings,
        on_event: EventCallback,
        on_resync: ResyncCallback,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.on_event = on_event
        self.on_resync = on_resync
        self.clock = clock or SystemClock()
        self._sleep = sleep  # tests pass one that records the backoff delays
        self.manager: GuardedManager | None = None
        self.protocol: GuardedProtocol | None = None
        self.connections = 0  # successful logins so far
        self.events_received = 0
        self.events_failed = 0
        self.last_event_at: datetime | None = None
        self.last_error = ""
        self._pending: deque[Any] = deque()
        self._wakeup = asyncio.Event()
        self._lost: asyncio.Future[None] | None = None
        self._ready = asyncio.Event()
        self._resynced = asyncio.Event()
        self._paused = False
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        # Called (never awaited) after each login and resync: the PBX doctor checks again.
        self.on_ready: Callable[[], None] | None = None

    # -- life cycle -------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        """Logged in and resynced: actions can be sent."""
        return self._ready.is_set()

    async def start(self) -> None:
        self._stopping = False
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._consume(), name="ami-events"),
            loop.create_task(self._run(), name="ami-link"),
        ]

    async def stop(self) -> None:
        # The flag as well as the cancel: in Python 3.11, wait_for() may swallow a
        # cancellation that arrives just as the connection attempt fails.
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._drop("link stopped")

    async def wait_ready(self, within: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), within)

    # -- actions ----------------------------------------------------------------------

    async def send_action(self, action: dict[str, Any], *, limit: float | None = None) -> Any:
        """Send one action and return its answer: a dict, or a list of dicts for list actions.

        Raises TelephonyError when the link is down, the connection drops before the answer,
        or no answer comes within ``action_timeout``. An Originate always carries ``Async``.
        """
        if not self.is_ready or self.manager is None:
            raise TelephonyError(self._down_reason())
        return await self._send(action, limit=limit)

    async def _send(self, action: dict[str, Any], *, limit: float | None = None) -> Any:
        assert self.manager is not None and self.manager.protocol is not None
        guarded = GuardedAction(dict(action))
        if str(guarded.get("action", "")).lower() == "originate" and "async" not in guarded:
            guarded["Async"] = "true"
        name = guarded.get("action")
        future = self.manager.protocol.send(guarded)
        limit = limit if limit is not None else self.settings.action_timeout
        try:
            answer = await asyncio.wait_for(asyncio.shield(future), limit)
        except TimeoutError:
            # Forget it: a late answer must not complete anything (and never a resend).
            self.manager.protocol.responses.pop(guarded.id, None)
            raise TelephonyError(
                msg(
                    "the PBX did not answer %(action)s within %(seconds)s s",
                    action=name,
                    seconds=f"{limit:g}",
                )
            ) from None
        except AmiConnectionLost as err:
            raise TelephonyError(
                msg("the PBX connection dropped before %(action)s was answered", action=name)
            ) from err
        if isinstance(answer, list):
            return [message_to_dict(m) for m in answer]
        return message_to_dict(answer)

    def _down_reason(self) -> Message:
        if not self.settings.host:
            return msg("no PBX is configured ([ami] host is empty)")
        where = {"host": self.settings.host, "port": self.settings.port}
        if self.last_error:
            return msg(
                "the PBX at %(host)s:%(port)s is not connected: %(error)s",
                error=self.last_error,
                **where,
            )
        return msg("the PBX at %(host)s:%(port)s is not connected", **where)

    # -- connection loop --------------------------------------------------------------

    async def _run(self) -> None:
        delay = _FIRST_RETRY
        refused_reported = False
        unreachable_reported = False
        while not self._stopping:
            try:
                await self._session()
                delay = _FIRST_RETRY
                unreachable_reported = refused_reported = False
                logger.warning("AMI connection to %s lost; reconnecting", self._where())
                continue
            except LoginRefusedError as err:
                self.last_error = str(err)
                wait = self.settings.reconnect_max_delay
                if not refused_reported:
                    logger.error(
                        "AMI login to %s as %r refused (%s): check [ami] username and secret "
                        "and manager.conf; retrying every %g s",
                        self._where(),
                        self.settings.username,
                        err,
                        wait,
                    )
                    refused_reported = True
                else:
                    logger.debug("AMI login refused again: %s", err)
            except (OSError, TimeoutError, TelephonyError) as err:
                self.last_error = str(err) or type(err).__name__
                wait = delay
                delay = min(delay * 2, self.settings.reconnect_max_delay)
                if not unreachable_reported:
                    logger.warning(
                        "cannot reach the PBX at %s (%s); retrying with backoff up to %g s",
                        self._where(),
                        self.last_error,
                        self.settings.reconnect_max_delay,
                    )
                    unreachable_reported = True
                else:
                    logger.debug("PBX still unreachable: %s", self.last_error)
            finally:
                self._drop("session ended")
            await self._sleep(wait)

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    async def _session(self) -> None:
        """One connection: connect, login, resync, then watch it until it drops."""
        loop = asyncio.get_running_loop()
        self._lost = loop.create_future()
        self.manager = GuardedManager(on_lost=self._connection_lost, loop=loop)
        timeout = self.settings.action_timeout
        _, protocol = await asyncio.wait_for(
            loop.create_connection(
                lambda: GuardedProtocol(self._feed), self.settings.host, self.settings.port
            ),
            timeout,
        )
        self.protocol = protocol
        self.manager.attach(protocol)
        login = await self._send(
            {
                "Action": "Login",
                "Username": self.settings.username,
                "Secret": self.settings.secret.get_secret_value(),
                "Events": "on",
            }
        )
        if login.get("Response") != "Success":
            raise LoginRefusedError(login.get("Message") or "login refused")
        self.connections += 1
        self.last_error = ""
        logger.info("AMI logged in to %s as %r", self._where(), self.settings.username)
        # The snapshot goes through the event stream, so on_resync runs in stream order.
        self._resynced.clear()
        resync = GuardedAction({"Action": "CoreShowChannels"})
        resync.in_stream = True
        self.manager.protocol.send(resync)
        await asyncio.wait_for(asyncio.shield(resync.future), timeout)
        await self._resynced.wait()
        self._ready.set()
        if self.on_ready is not None:
            self.on_ready()
        watchdog = loop.create_task(self._watchdog(), name="ami-watchdog")
        try:
            await self._lost
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def _watchdog(self) -> None:
        """Defect (d): a Ping that gets no Pong means a half-dead connection: drop it."""
        interval = self.settings.ping_interval
        while True:
            await asyncio.sleep(interval)
            try:
                await self._send(
                    {"Action": "Ping"}, limit=min(interval, self.settings.action_timeout)
                )
            except TelephonyError as err:
                logger.warning("AMI ping unanswered (%s); dropping the connection", err)
                if self.protocol is not None and self.protocol.transport is not None:
                    self.protocol.transport.abort()
                return

    def _connection_lost(self, exc: Exception | None) -> None:
        self._ready.clear()
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)

    def _drop(self, why: str) -> None:
        self._ready.clear()
        if self.manager is not None:
            self.manager.close()
        self.manager = None
        self.protocol = None
        if self._paused:
            self._paused = False

    # -- the event stream -------------------------------------------------------------

    def _feed(self, items: list[Any]) -> None:
        """Called by the protocol with each read's events (in stream order); never blocks."""
        self._pending.extend(items)
        self._wakeup.set()
        if len(self._pending) > _HIGH_WATER and not self._paused and self.protocol is not None:
            self._paused = True
            self.protocol.transport.pause_reading()

    async def _consume(self) -> None:
        pending = self._pending
        on_event = self.on_event
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while pending:
                item = pending.popleft()
                if type(item) is dict:
                    # Inlined (not a helper coroutine): this loop runs once per AMI event.
                    self.events_received += 1
                    try:
                        await on_event(item)
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        self.events_failed += 1
                        logger.exception(
                            "handling AMI event %s (Linkedid %s) failed; skipped",
                            item.get("Event"),
                            item.get("Linkedid", "-"),
                        )
                else:
                    await self._deliver_resync(item)
                if self._paused and len(pending) < _HIGH_WATER // 4:
                    self._paused = False
                    if self.protocol is not None:
                        self.protocol.transport.resume_reading()
            self.last_event_at = self.clock.now()

    async def _deliver_resync(self, action: GuardedAction) -> None:
        result = action.future.result() if not action.future.exception() else None
        if not isinstance(result, list):
            # An Error answer is not "no live calls": resyncing with [] would end every call
            # being tracked. Keep the tracked state and say what to fix.
            message = result.get("Message", "") if result is not None else "no answer"
            logger.warning(
                "AMI resync impossible (CoreShowChannels: %s): the manager.conf user needs "
                "read/write 'system,call,reporting'; live calls are kept as tracked",
                message,
            )
            self._resynced.set()
            return
        channels = [message_to_dict(m) for m in result if m.get("Event") == "CoreShowChannel"]
        logger.info("AMI resync: %d live channel(s)", len(channels))
        try:
            await self.on_resync(channels)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("resync with %d channel(s) failed", len(channels))
        finally:
            self._resynced.set()
