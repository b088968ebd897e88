"""Named background loops with one owner: a crash is logged and the loop restarted with backoff.

A loop handles its own expected failures (the outbox retries a failed pass, the AMI link
reconnects); the supervisor is where a loop that crashes anyway (a bug, an error nobody
expected) is reported and started again, after 1 s, 2 s, 4 s ... up to `max_delay`. A loop
that returns has finished (it was asked to stop) and is not restarted. Stopping a loop asks
nothing of it: it is cancelled, then awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Loop = Callable[[], Awaitable[None]]


class Supervisor:
    """Runs long-lived coroutines by name; the composition root stops them all at shutdown."""

    def __init__(self, *, base_delay: float = 1.0, max_delay: float = 60.0) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._base_delay = base_delay
        self._max_delay = max_delay
        self.restarts: dict[str, int] = {}  # name -> restarts so far (health page, tests)

    def start(self, name: str, loop: Loop) -> asyncio.Task[None]:
        """Run `loop()` as the task `name`, restarted with backoff whenever it raises."""
        running = self._tasks.get(name)
        if running is not None and not running.done():
            raise ValueError(f"a task named {name!r} is already running")
        task = asyncio.get_running_loop().create_task(self._keep(name, loop), name=name)
        self._tasks[name] = task
        return task

    async def _keep(self, name: str, loop: Loop) -> None:
        delay = self._base_delay
        while True:
            started = asyncio.get_running_loop().time()
            try:
                await loop()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                # A loop that ran well for a while before crashing starts the backoff over.
                if asyncio.get_running_loop().time() - started > self._max_delay:
                    delay = self._base_delay
                self.restarts[name] = self.restarts.get(name, 0) + 1
                logger.exception("task %s crashed; restarting in %.1f s", name, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_delay)

    @property
    def names(self) -> list[str]:
        """The tasks running now, in the order they were started."""
        return [n for n, t in self._tasks.items() if not t.done()]

    async def stop_task(self, name: str, *, grace: float = 0.0) -> None:
        """Give the task `grace` seconds to end by itself (after its owner asked it to),
        then cancel it; return once it has finished."""
        task = self._tasks.pop(name, None)
        if task is None:
            return
        if grace > 0:
            await asyncio.wait([task], timeout=grace)  # neither raises nor cancels
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def stop(self) -> None:
        """Stop every task, newest first."""
        for name in reversed(list(self._tasks)):
            await self.stop_task(name)
