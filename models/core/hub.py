"""The hub: in-process publish/subscribe for domain events, and command handlers.

The publisher never blocks: each subscriber has its own bounded queue and a
named consumer task. A subscriber's error is logged with the event that caused it, and that
subscriber goes on with the next event; the others never notice. The hub owns the consumer
tasks: `unsubscribe` and `close` cancel them, then wait for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[None]]


class Subscription:
    """One subscriber: a queue and the task that drains it."""

    def __init__(self, name: str, handler: Handler, types: tuple[type, ...], maxsize: int) -> None:
        self.name = name
        self.handler = handler
        self.types = types
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self.task: asyncio.Task[None] | None = None

    def wants(self, event: Any) -> bool:
        return not self.types or isinstance(event, self.types)

    async def run(self) -> None:
        while True:
            event = await self.queue.get()
            try:
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

    def subscribe(self, name: str, handler: Handler, *types: type) -> Subscription:
        """Call `handler` for every published event of `types` (all when none)."""
        sub = Subscription(name, handler, types, self._queue_size)
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
