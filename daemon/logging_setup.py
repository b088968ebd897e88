"""Logging configured once, at start."""

from __future__ import annotations

import logging

from models.core.settings import Settings


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=getattr(logging, settings.logging.level),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # aiohttp's access log is noisy at INFO for a panel polled by browsers.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # APScheduler announces every job run at INFO (one line a minute per job).
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # The AMI library logs raw frames; keep them at DEBUG only when asked.
    if settings.logging.level != "DEBUG":
        logging.getLogger("panoramisk").setLevel(logging.WARNING)
