"""Wiring of the telephony side: PBX link (or the built-in simulator), tracker, calls, commands."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import SecretStr

from daemon.ami.calls_service import CallsService
from daemon.ami.commands import TelephonyCommands
from daemon.ami.link import AmiLink, fan_out
from daemon.ami.presence import PresenceRelay, device_extension
from daemon.pbxsim.demo import DemoTraffic, crm_extensions
from daemon.pbxsim.dialplan import open_contexts
from daemon.pbxsim.server import PbxSimulator
from models.core.clock import Clock
from models.core.events import ClickToCall, UsersChanged
from models.core.hub import Hub
from models.core.settings import AmiSettings, Settings
from models.schema.company import SourceTag
from models.telephony.caller_directory import CallerDirectory

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Listeners(Generic[T]):
    """The link's callback: hands each event to every consumer in turn. A consumer that raises
    is logged with the event and skipped; the others still get it."""

    def __init__(self) -> None:
        self._all: list[Callable[[T], Awaitable[None]]] = []
        self._deliver = fan_out()

    def add(self, listener: Callable[[T], Awaitable[None]]) -> None:
        self._all.append(listener)
        self._deliver = fan_out(*self._all)

    async def __call__(self, item: T) -> None:
        await self._deliver(item)


@dataclass
class Telephony:
    link: AmiLink
    calls: CallsService
    commands: TelephonyCommands
    simulator: PbxSimulator | None
    # Consumers of the link's events; more join after start (the dialer, chan_dongle SMS).
    listeners: Listeners[dict[str, str]]


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
        # Its dialplan has the contexts the CRM dials and transfers into.
        dialplan=open_contexts(
            settings.ami.outbound_context,
            settings.ami.transfer_context,
            agent_device=settings.ami.agent_channel,
        ),
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
    stack: AsyncExitStack,
    settings: Settings,
    hub: Hub,
    clock: Clock,
    *,
    simulator_speed: float = 1.0,
) -> Telephony:
    """Start everything between the PBX and the hub; each part joins `stack` as it starts, so
    closing the stack stops them in reverse order (also after a start that failed half-way).

    `simulator_speed` scales the built-in simulator's time (tests run calls faster).
    """
    simulator: PbxSimulator | None = None
    ami = settings.ami
    if settings.uses_simulator:
        simulator, ami = await _start_simulator(settings, simulator_speed)
        stack.push_async_callback(simulator.close)
        if settings.ami.simulator_demo:
            demo = DemoTraffic(simulator, crm_extensions, dids=await _demo_dids())
            await demo.start()
            stack.push_async_callback(demo.stop)
    directory = await CallerDirectory.load()
    # The one extension directory, loaded before the link starts and reloaded when users change.
    await directory.extensions.load()
    users_changed = hub.subscribe("extensions", directory.extensions.on_event, UsersChanged)
    stack.push_async_callback(hub.unsubscribe, users_changed)
    calls = CallsService.for_pbx(
        hub, clock, directory, ami, trunk_channels=ami.trunk_channels, devices=ami.devices
    )
    calls.start()
    stack.push_async_callback(calls.stop)
    listeners: Listeners[dict[str, str]] = Listeners()
    resync_listeners: Listeners[list[dict[str, str]]] = Listeners()
    link = AmiLink(ami, listeners, resync_listeners, clock=clock)
    commands = TelephonyCommands(link, hub, ami)
    presence = PresenceRelay(hub, device_extension(calls.tracker.roles.classify))
    for listener in (calls.on_event, commands.on_event, presence.on_event):
        listeners.add(listener)
    resync_listeners.add(calls.on_resync)
    resync_listeners.add(commands.on_resync)
    commands.register()

    async def click_to_call(cmd: ClickToCall) -> str:
        # The pop-up shows whom the call is for while the agent's own phone rings, before
        # the PBX names the number: the tracker is told first.
        calls.expect_click_to_call(cmd.request_id, cmd.number)
        return await commands.click_to_call(cmd)

    hub.handle(ClickToCall, click_to_call)
    await link.start()
    stack.push_async_callback(link.stop)
    return Telephony(
        link=link, calls=calls, commands=commands, simulator=simulator, listeners=listeners
    )
