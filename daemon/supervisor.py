"""Named background tasks with an owner that restarts them with backoff and stops them cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


class Supervisor:
    """Runs long-lived coroutines; a crashed one is logged and restarted after a growing pause."""

    def __init__(self, *, max_delay: float = 60.0) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._max_delay = max_delay

    def start(
        self, name: str, factory: Callable[[], Awaitable[None]], *, restart: bool = True
    ) -> None:
        if name in self._tasks:
            raise ValueError(f"a task named {name!r} is already running")
        self._tasks[name] = asyncio.get_running_loop().create_task(
            self._run(name, factory, restart), name=name
        )

    async def _run(self, name: str, factory: Callable[[], Awaitable[None]], restart: bool) -> None:
        delay = 1.0
        while True:
            try:
                await factory()
                if not restart:
                    return
                logger.warning("task %s returned; restarting in %.0f s", name, delay)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("task %s crashed; restarting in %.0f s", name, delay)
                if not restart:
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_delay)

    @property
    def names(self) -> list[str]:
        return [n for n, t in self._tasks.items() if not t.done()]

    async def stop(self) -> None:
        """Cancel every task, newest first, and wait for each to finish."""
        for name in reversed(list(self._tasks)):
            task = self._tasks.pop(name)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
