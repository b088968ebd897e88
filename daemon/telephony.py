"""Wiring of the telephony side: PBX link (or the built-in simulator), tracker, calls, commands."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from daemon.ami.calls_service import CallsService
from daemon.ami.commands import TelephonyCommands
from daemon.ami.link import AmiLink
from daemon.ami.presence import PresenceRelay, device_extension
from daemon.pbxsim.demo import DemoTraffic, crm_extensions
from daemon.pbxsim.server import PbxSimulator
from models.core.clock import Clock
from models.core.hub import Hub
from models.core.settings import AmiSettings, Settings
from models.schema.company import SourceTag
from models.telephony.caller_directory import CallerDirectory

logger = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[Any]]


@dataclass
class Telephony:
    link: AmiLink
    calls: CallsService
    commands: TelephonyCommands
    simulator: PbxSimulator | None
    closers: list[Closer]
    # More consumers of the link's events (chan_dongle SMS), added after start.
    listeners: list[Callable[[dict[str, str]], Awaitable[None]]] = field(default_factory=list)


async def _start_simulator(settings: Settings, speed: float) -> tuple[PbxSimulator, AmiSettings]:
    """No PBX configured: run the built-in simulator on loopback and link to it like to Asterisk."""
    secret = secrets.token_urlsafe(16)
    sim = PbxSimulator(
        host="127.0.0.1",
        port=settings.ami.simulator_port,
        username="centralita",
        secret=secret,
        speed=speed,
        agent_device=settings.ami.agent_channel,
    )
    await sim.start()
    ami = settings.ami.model_copy(
        update={
            "host": "127.0.0.1",
            "port": sim.port,
            "username": "centralita",
            "secret": SecretStr(secret),
        }
    )
    logger.info("no PBX configured: built-in PBX simulator on 127.0.0.1:%d", sim.port)
    return sim, ami


async def _demo_dids() -> list[str]:
    """The company's tracking numbers, so that demo calls carry real sources (N3)."""
    dids = [tag.did for tag in await SourceTag.exclude(did=None) if tag.did]
    return [d.lstrip("+") for d in dids] or ["900100200"]


async def start_telephony(
    settings: Settings, hub: Hub, clock: Clock, *, simulator_speed: float = 1.0
) -> Telephony:
    """Start everything between the PBX and the hub; the caller stops it with the closers.

    `simulator_speed` scales the built-in simulator's time (tests run calls faster).
    """
    closers: list[Closer] = []
    simulator: PbxSimulator | None = None
    ami = settings.ami
    if settings.uses_simulator:
        simulator, ami = await _start_simulator(settings, simulator_speed)
        closers.append(simulator.close)
        if settings.ami.simulator_demo:
            demo = DemoTraffic(simulator, crm_extensions, dids=await _demo_dids())
            await demo.start()
            closers.append(demo.stop)
    try:
        directory = await CallerDirectory.load()
        calls = CallsService.for_pbx(
            hub, clock, directory, ami, trunk_channels=ami.trunk_channels, devices=ami.devices
        )
        await calls.refresh_users()
        calls.start()
        closers.append(calls.stop)
        listeners: list[Callable[[dict[str, str]], Awaitable[None]]] = []

        presence = PresenceRelay(hub, device_extension(calls.tracker.roles.classify))

        async def on_event(event: dict[str, str]) -> None:
            await calls.on_event(event)
            await commands.on_event(event)
            await presence.on_event(event)
            for listener in listeners:
                await listener(event)

        async def on_resync(snapshot: list[dict[str, str]]) -> None:
            await calls.on_resync(snapshot)
            await commands.on_resync(snapshot)

        link = AmiLink(ami, on_event, on_resync, clock=clock)
        # The callbacks above use `commands` only once the link runs, after this line.
        commands = TelephonyCommands(link, hub, ami)
        commands.register()
        await link.start()
        closers.append(link.stop)
    except BaseException:
        for closer in reversed(closers):
            await closer()
        raise
    return Telephony(
        link=link,
        calls=calls,
        commands=commands,
        simulator=simulator,
        closers=closers,
        listeners=listeners,
    )
