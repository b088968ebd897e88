"""The hub: in-process publish/subscribe for domain events, and command handlers.

The publisher never blocks: each subscriber has its own bounded queue and a
named consumer task. A subscriber made `after_live` (the Telegram notifier, the webhooks) takes
each event only once the pop-ups being published are out (`Hub.live_idle`, set by the call
path's live lane), or after LIVE_FIRST at most: under a burst of calls its database work no
longer competes with the pop-ups for the event loop and the connections.

A subscriber's error is logged with the event that caused it, and that subscriber goes on with
the next event; the others never notice. The hub owns the consumer tasks: `unsubscribe` and
`close` cancel them, then wait for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[None]]

# Longest an `after_live` subscriber lets a busy live lane go first, per event.
LIVE_FIRST = 0.5


class Subscription:
    """One subscriber: a queue and the task that drains it."""

    def __init__(
        self,
        name: str,
        handler: Handler,
        types: tuple[type, ...],
        maxsize: int,
        after: asyncio.Event | None = None,
    ) -> None:
        self.name = name
        self.handler = handler
        self.types = types
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self.task: asyncio.Task[None] | None = None
        self._after = after  # waited for (at most LIVE_FIRST) before each event

    def wants(self, event: Any) -> bool:
        return not self.types or isinstance(event, self.types)

    async def run(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                if self._after is not None and not self._after.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._after.wait(), LIVE_FIRST)
                await self.handler(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("subscriber %s failed on %r", self.name, event)
            finally:
                self.queue.task_done()


class Hub:
    """Domain events out, commands in."""

    def __init__(self, queue_size: int = 10_000) -> None:
        self._subs: list[Subscription] = []
        self._commands: dict[type, Callable[[Any], Awaitable[Any]]] = {}
        self._queue_size = queue_size
        # Set while no pop-up is being published: the call path's live lane clears it while
        # it has work (daemon/ami/calls_service.py). Set for good when nothing drives it.
        self.live_idle = asyncio.Event()
        self.live_idle.set()

    def subscribe(
        self, name: str, handler: Handler, *types: type, after_live: bool = False
    ) -> Subscription:
        """Call `handler` for every published event of `types` (all when none); with
        `after_live`, each once the pop-ups being published are out (see the module)."""
        after = self.live_idle if after_live else None
        sub = Subscription(name, handler, types, self._queue_size, after)
        sub.task = asyncio.get_running_loop().create_task(sub.run(), name=f"hub:{name}")
        self._subs.append(sub)
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
        if sub.task is not None:
            sub.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sub.task

    def publish(self, event: Any) -> None:
        """Hand the event to every interested subscriber; never blocks."""
        for sub in self._subs:
            if not sub.wants(event):
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                logger.warning("subscriber %s is full; dropped %r", sub.name, event)

    def handle(self, command_type: type, handler: Callable[[Any], Awaitable[Any]]) -> None:
        """Register the one handler of a command type."""
        self._commands[command_type] = handler

    def handler_of(self, command_type: type) -> Callable[[Any], Awaitable[Any]] | None:
        """The handler registered for `command_type` (None when there is none)."""
        return self._commands.get(command_type)

    def can_handle(self, command_type: type) -> bool:
        return command_type in self._commands

    async def send(self, command: Any) -> Any:
        """Carry out a command through its handler and return its answer."""
        handler = self._commands.get(type(command))
        if handler is None:
            from models.core.errors import TelephonyError, msg

            raise TelephonyError(
                msg(
                    "nothing handles %(command)s (is the PBX link running?)",
                    command=type(command).__name__,
                )
            )
        return await handler(command)

    async def drain(self) -> None:
        """Wait until every subscriber has processed what was published (tests, shutdown)."""
        for sub in list(self._subs):
            await sub.queue.join()

    async def close(self) -> None:
        for sub in list(self._subs):
            await self.unsubscribe(sub)
