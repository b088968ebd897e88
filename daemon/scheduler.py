"""Scheduled work (APScheduler): task reminders, the daily digest, housekeeping.

APScheduler runs each job as a task of its own; this owner keeps those tasks, so that a stop
cancels the jobs still running and waits for them (no job touches a closed database).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


class Scheduler:
    """A thin owner of APScheduler's AsyncIOScheduler: named jobs, logged failures."""

    def __init__(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._running: set[asyncio.Task[Any]] = set()

    def every(self, name: str, seconds: float, job: Job) -> None:
        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("scheduled job %s failed", name)
            finally:
                self._running.discard(task)

        self._scheduler.add_job(
            run,
            "interval",
            seconds=seconds,
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(seconds),
        )

    def remove(self, name: str) -> None:
        """No more runs of the job `name` (a run in progress goes on); unknown names are fine."""
        if self._scheduler.get_job(name) is not None:
            self._scheduler.remove_job(name)

    @property
    def job_names(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()]

    def start(self) -> None:
        self._scheduler.start()
        logger.info("scheduler started: %s", ", ".join(self.job_names))

    async def stop(self) -> None:
        """No new runs; the jobs running now are cancelled, and awaited."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)  # cancels the running jobs' tasks
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
