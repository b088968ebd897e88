"""The doctor's checks of what calls leave behind: the recordings folder (readable, with recent
MixMonitor files), and the optional test call (``--call EXT``): a short harmless Originate to an
extension (the phone rings, and when picked up it only waits a second), its events fed to the
daemon's own call tracker to report what the CRM saw — the pop-up path end to end."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path

from daemon.ami.tracker import CallTracker
from daemon.ami.tracker_types import Answered, ChannelRoles, Ended, Ringing
from daemon.doctor.context import DoctorContext
from models.core.errors import msg
from models.telephony.pbx_health import OK, PROBLEM, WARNING, Finding

RECENT = timedelta(days=7)
_SCAN_LIMIT = 50_000  # entries looked at before giving up (a huge archive)
_RING_SECONDS = 20  # how long the test call rings (the PBX's Timeout)


def _newest_since(root: Path, since: float) -> Path | None:
    """A file under `root` modified after `since` (epoch), or None."""
    seen = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            seen += 1
            path = Path(folder) / name
            try:
                if path.stat().st_mtime >= since:
                    return path
            except OSError:
                continue
            if seen >= _SCAN_LIMIT:
                return None
    return None


async def check_recordings(ctx: DoctorContext) -> list[Finding]:
    title = msg("Recordings folder")
    folder = ctx.recordings_dir
    where = "config.toml [ami] recordings_dir"
    if ctx.simulated:
        return [Finding("recordings", OK, title, msg("the built-in simulator records no calls"))]
    readable = await asyncio.to_thread(
        lambda: folder.is_dir() and os.access(folder, os.R_OK | os.X_OK)
    )
    if not readable:
        return [
            Finding(
                "recordings",
                PROBLEM if ctx.ami.recordings_dir else WARNING,
                title,
                msg("the CRM cannot read the folder %(folder)s", folder=str(folder)),
                msg(
                    "set [ami] recordings_dir to the folder MixMonitor writes to (Asterisk's "
                    "default: /var/spool/asterisk/monitor) and let the CRM's user read it"
                ),
                where,
            )
        ]
    since = (ctx.now - RECENT).timestamp()
    found = await asyncio.to_thread(_newest_since, folder, since)
    if found is None:
        return [
            Finding(
                "recordings",
                WARNING,
                title,
                msg("no recording in %(folder)s from the last 7 days", folder=str(folder)),
                msg(
                    "if calls are recorded, make MixMonitor in the dialplan write into this "
                    "folder, or point [ami] recordings_dir at the folder it writes to"
                ),
                f"extensions.conf MixMonitor(); {where}",
            )
        ]
    return [
        Finding(
            "recordings",
            OK,
            title,
            msg("readable, with recent recordings (%(file)s)", file=found.name),
        )
    ]


async def check_test_call(ctx: DoctorContext) -> list[Finding]:
    """Ring `ctx.call_extension` and report what the tracker made of it."""
    assert ctx.probe is not None
    ext = ctx.call_extension
    title = msg("Test call to %(extension)s", extension=ext)
    device = ctx.device_of(ext)
    roles = ChannelRoles(
        agent_channels=(ctx.ami.agent_channel,),
        devices=dict(ctx.ami.devices),
        trunk_channels=tuple(ctx.ami.trunk_channels),
        agent_extensions=lambda: {u.extension for u in ctx.users} | {ext},
    )
    tracker = CallTracker(roles=roles, clock=time.time)
    start = len(ctx.probe.events)
    answer = await ctx.probe.send(
        {
            "Action": "Originate",
            "Channel": device,
            "Application": "Wait",
            "Data": "1",
            "CallerID": '"Centralita doctor" <doctor>',
            "Timeout": str(_RING_SECONDS * 1000),
            "Async": "true",
        }
    )
    if isinstance(answer, dict) and answer.get("Response") != "Success":
        return [
            Finding(
                "test_call",
                PROBLEM,
                title,
                msg(
                    "the PBX refused to ring %(device)s: “%(answer)s”",
                    device=device,
                    answer=answer.get("Message", ""),
                ),
                msg("check the device and the manager user's write= (originate)"),
                f"{ctx.manager_section} write=; config.toml [ami] agent_channel",
            )
        ]
    seen: list[str] = []
    linkedid = ""
    loop = asyncio.get_running_loop()
    end = loop.time() + ctx.call_wait
    at = start
    while loop.time() < end and "hung up" not in seen:
        event = await ctx.probe.wait_for(lambda e: True, end - loop.time(), start=at)
        if event is None:
            break
        at = ctx.probe.events.index(event, at) + 1
        for step in tracker.feed(event):
            if isinstance(step, Ringing) and step.extension == ext and not linkedid:
                linkedid = step.linkedid
                seen.append("ringing")
            elif isinstance(step, Answered) and step.linkedid == linkedid:
                seen.append("answered")
            elif isinstance(step, Ended) and step.record.linkedid == linkedid:
                seen.append("hung up")
    words = {"ringing": msg("ringing"), "answered": msg("answered"), "hung up": msg("hung up")}
    saw = ", ".join(words[s] for s in seen) or msg("nothing")
    if not seen:
        return [
            Finding(
                "test_call",
                PROBLEM,
                title,
                msg(
                    "%(device)s was called but the CRM saw no call for extension "
                    "%(extension)s: its pop-up would never appear",
                    device=device,
                    extension=ext,
                ),
                msg("check [ami] agent_channel and devices, and the manager user's read= (call)"),
                f"config.toml [ami] agent_channel, devices; {ctx.manager_section} read=",
            )
        ]
    # Rung and ended: the pop-up path works (an unanswered test call is fine too).
    status = OK if seen[-1] == "hung up" else WARNING
    return [
        Finding(
            "test_call",
            status,
            title,
            msg("the CRM saw: %(steps)s", steps=saw),
        )
    ]
