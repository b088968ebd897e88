"""Stopping a long-running command on Ctrl+C or a service manager's SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal


def stop_event() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, for the running loop.

    Where the loop cannot watch signals (Windows' event loops raise NotImplementedError),
    Ctrl+C still ends the process through KeyboardInterrupt.
    """
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    return stopping
