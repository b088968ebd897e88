"""centralita call USER NUMBER: click-to-call for a user, from the command line (L5).

Connects to the configured PBX, rings the user's extension, then dials the number, and
prints each stage until the call is connected or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid

from daemon.ami.commands import TelephonyCommands
from daemon.ami.link import AmiLink
from daemon.commands._db import with_db
from models.core.errors import TelephonyError
from models.core.events import ClickToCall, ClickToCallProgress
from models.core.hub import Hub
from models.core.settings import Settings
from models.people.users import find_user

_EXPLAIN = {
    "ringing_agent": "ringing extension {ext}: pick up the phone",
    "dialing": "extension {ext} answered; dialing {number}",
    "connected": "connected: {number} answered",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "call",
        help="click-to-call: ring USER's extension, then dial NUMBER",
        description="The PBX rings the user's phone first; when they pick up it dials the number "
        "(in the format the telephony settings ask for). Needs [ami] host.",
    )
    p.add_argument("user", help="username of the agent who makes the call")
    p.add_argument("number", help="the number to call, as typed (e.g. '+34 911 23 45 67')")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.ami.host:
        print(
            "centralita call: no PBX is configured ([ami] host is empty). The built-in "
            "simulator runs only inside `centralita run`; set [ami] host, port, username "
            "and secret to call through Asterisk."
        )
        return 2
    return with_db(settings, lambda: _call(args, settings))


async def _call(args: argparse.Namespace, settings: Settings) -> int:
    user = await find_user(args.user)
    if user is None or not user.is_active:
        print(f"centralita call: no active user named {args.user!r}")
        return 2
    if not user.extension:
        print(f"centralita call: {user.username} has no extension; set one first")
        return 2
    hub = Hub()
    done = asyncio.Event()
    outcome: dict[str, str] = {}
    commands: TelephonyCommands
    link = AmiLink(settings.ami, lambda e: commands.on_event(e), lambda s: commands.on_resync(s))
    commands = TelephonyCommands(link, hub, settings.ami)
    commands.register()

    async def show(progress: ClickToCallProgress) -> None:
        if progress.stage == "failed":
            print(f"failed: {progress.reason}", flush=True)
        else:
            text = _EXPLAIN.get(progress.stage, progress.stage)
            print(text.format(ext=user.extension, number=args.number), flush=True)
        if progress.stage in ("connected", "failed"):
            outcome["stage"] = progress.stage
            done.set()

    hub.subscribe("cli-call", show, ClickToCallProgress)
    await link.start()
    try:
        try:
            await link.wait_ready(settings.ami.action_timeout + 1)
        except TimeoutError:
            reason = link.last_error or "no answer"
            where = f"{settings.ami.host}:{settings.ami.port}"
            print(f"centralita call: cannot use the PBX at {where}: {reason}")
            return 1
        request = ClickToCall(user.id, user.extension, args.number, f"cli-{uuid.uuid4().hex[:12]}")
        try:
            await hub.send(request)
        except TelephonyError as err:
            await hub.drain()
            if not done.is_set():
                print(f"failed: {err}")
            return 1
        limit = settings.ami.originate_timeout * 2 + 60
        try:
            await asyncio.wait_for(done.wait(), limit)
        except TimeoutError:
            print(f"no outcome from the PBX within {limit} s")
            return 1
        return 0 if outcome.get("stage") == "connected" else 1
    finally:
        await link.stop()
        await hub.close()
