"""Fixtures for the AMI link and simulator tests: a simulator on a free port, links to it.

Imported explicitly by the test modules that use them (tests/daemon/conftest.py belongs to
the tracker's tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from daemon.ami.link import AmiLink
from daemon.pbxsim import PbxSimulator
from models.core.settings import AmiSettings

SPEED = 200.0  # a 30 s simulated call lasts 0.15 s


async def eventually(predicate: Callable[[], Any], within: float = 10.0) -> None:
    """Wait until predicate() is true (polling); fail the test if it never becomes true."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


class Recorder:
    """What the link handed over: events in order, and each resync snapshot."""

    def __init__(self) -> None:
        self.events: list[dict[str, str]] = []
        self.resyncs: list[list[dict[str, str]]] = []
        self.fail_on: str | None = None  # raise on this event name (a buggy consumer)

    async def on_event(self, event: dict[str, str]) -> None:
        if self.fail_on and event.get("Event") == self.fail_on:
            raise RuntimeError(f"consumer bug on {self.fail_on}")
        self.events.append(event)

    async def on_resync(self, channels: list[dict[str, str]]) -> None:
        self.resyncs.append(channels)

    def named(self, name: str) -> list[dict[str, str]]:
        return [e for e in self.events if e.get("Event") == name]


class RecordingSleep:
    """The link's backoff sleeps: recorded, and short in real time."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0.01)


def ami_settings(sim: PbxSimulator, **overrides: Any) -> AmiSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": sim.port,
        "username": sim.username,
        "secret": sim.secret,
        "action_timeout": 2.0,
        "ping_interval": 5.0,
        "reconnect_max_delay": 2.0,
    }
    values.update(overrides)
    return AmiSettings(**values)


@pytest.fixture
async def sim():
    simulator = PbxSimulator(speed=SPEED)
    await simulator.start()
    yield simulator
    await simulator.close()


@pytest.fixture
async def make_link(sim):
    """make_link(**ami_overrides) -> (link, recorder, sleep); started; stopped at the end."""
    links: list[AmiLink] = []

    async def factory(*, wait: bool = True, **overrides: Any):
        recorder = Recorder()
        sleep = RecordingSleep()
        link = AmiLink(
            ami_settings(sim, **overrides), recorder.on_event, recorder.on_resync, sleep=sleep
        )
        links.append(link)
        await link.start()
        if wait:
            await link.wait_ready(10)
        return link, recorder, sleep

    yield factory
    for link in links:
        await link.stop()
