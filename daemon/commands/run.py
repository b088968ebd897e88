"""centralita run: the whole product in one process."""

from __future__ import annotations

import argparse
import asyncio

from daemon.logging_setup import configure_logging
from models.core.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the web panel, the PBX link (or the built-in simulator) and the bot",
        description="Runs web + daemon + bot in one event loop. Pending migrations are applied "
        "first. With no [ami] host configured the built-in PBX simulator is started.",
    )
    p.add_argument("--host", help="override [web] host")
    p.add_argument("--port", type=int, help="override [web] port")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.host:
        settings.web.host = args.host
    if args.port is not None:
        settings.web.port = args.port
    from daemon.app import run_forever  # imported here: the web and bot load only for `run`

    configure_logging(settings)
    asyncio.run(run_forever(settings))
    return 0
