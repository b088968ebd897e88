"""centralita pbx-sim: run the built-in PBX simulator as a standalone AMI server (X5).

With --replay it serves a recorded AMI session (raw .ami text or cacofonisk JSON) to every
client that logs in; without it, it makes demo traffic for the team's extensions.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from daemon.commands._db import ensure_data_dir
from daemon.logging_setup import configure_logging
from daemon.pbxsim import PbxSimulator
from daemon.pbxsim.demo import DemoTraffic, ExtensionSource, crm_extensions
from daemon.pbxsim.dialplan import open_contexts
from daemon.pbxsim.replay import Trace
from daemon.signals import stop_event
from models.core.db import close_db, open_db
from models.core.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pbx-sim",
        help="run the built-in PBX simulator (an AMI server): demo calls or a recorded trace",
        description="An AMI server over TCP that behaves like Asterisk. Clients log in with "
        "[ami] username and secret (default crm / crm-secret).",
    )
    p.add_argument("--replay", type=Path, metavar="TRACE", help="serve this .ami or .json trace")
    p.add_argument("--port", type=int, help="TCP port (default [ami] simulator_port, or 5038)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--speed", type=float, default=1.0, help="time runs this many times faster (default 1)"
    )
    p.add_argument(
        "--paced", action="store_true", help="replay at the recording's pace (its Timestamps)"
    )
    p.add_argument("--once", action="store_true", help="exit after the first complete replay")
    p.add_argument(
        "--extensions",
        help="demo mode: comma-separated extensions (default: the users' extensions in the CRM)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings)
    trace = None
    if args.replay is not None:
        if not args.replay.is_file():
            print(f"centralita pbx-sim: no such trace file: {args.replay}")
            return 2
        trace = Trace.load(args.replay, paced=args.paced)
    port = args.port if args.port is not None else (settings.ami.simulator_port or 5038)
    try:
        return asyncio.run(_serve(args, settings, trace, port))
    except OSError as err:
        print(f"centralita pbx-sim: cannot listen on {args.host}:{port}: {err.strerror}")
        return 2


async def _serve(
    args: argparse.Namespace, settings: Settings, trace: Trace | None, port: int
) -> int:
    uses_db = trace is None and not args.extensions
    if uses_db:
        ensure_data_dir(settings)
        await open_db(
            settings.database.url, busy_timeout=settings.database.busy_timeout_seconds
        )
    sim = PbxSimulator(
        host=args.host,
        port=port,
        username=settings.ami.username or "crm",
        secret=settings.ami.secret.get_secret_value() or "crm-secret",
        speed=args.speed,
        replay=trace,
        # The contexts the CRM's settings dial and transfer into exist on it.
        dialplan=open_contexts(settings.ami.outbound_context, settings.ami.transfer_context),
    )
    await sim.start()
    demo = None
    if trace is None:
        demo = DemoTraffic(sim, _extension_source(args))
        await demo.start()
        print(f"PBX simulator (demo calls) on {args.host}:{sim.port}", flush=True)
    else:
        where = f"{args.host}:{sim.port}"
        print(f"PBX simulator replaying {args.replay} ({len(trace)} events) on {where}", flush=True)
    stopping = stop_event()
    waiters = [asyncio.ensure_future(stopping.wait())]
    if args.once and trace is not None:
        waiters.append(asyncio.ensure_future(sim.replay_finished.wait()))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        if demo is not None:
            await demo.stop()
        await sim.close()
        if uses_db:
            await close_db()
    return 0


def _extension_source(args: argparse.Namespace) -> ExtensionSource:
    if args.extensions:
        fixed = [e.strip() for e in args.extensions.split(",") if e.strip()]

        async def given() -> list[str]:
            return fixed

        return given

    return crm_extensions
