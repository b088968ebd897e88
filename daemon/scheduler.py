"""Scheduled work (APScheduler): task reminders and the daily digest, every minute."""

from __future__ import annotations

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

    def every(self, name: str, seconds: float, job: Job) -> None:
        async def run() -> None:
            try:
                await job()
            except Exception:
                logger.exception("scheduled job %s failed", name)

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

    @property
    def job_names(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()]

    def start(self) -> None:
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
