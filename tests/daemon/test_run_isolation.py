"""`centralita run` keeps going when one part fails: a consumer of the hub or of the PBX link
that raises is logged and skipped while the others still deliver; a background loop that
crashes is restarted by the supervisor; a stop leaves no task behind."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from bot.notifier import CallNotifier
from daemon import app as root
from daemon.ami.presence import PresenceRelay
from daemon.dialer import DialerRunner
from models.core.clock import SystemClock
from models.core.settings import Settings
from models.messaging import telegram_links as telegram
from models.schema.calls import Call
from tests.bot.fake_bot_api import FakeBotApi
from tests.daemon.pbxsim_fixtures import eventually
from tests.web.conftest import http_login
from web.views.live import LiveRelay

# What each consumer is called in the log, and the method that handles its events.
CONSUMERS: list[tuple[str, type, str]] = [
    ("web-live", LiveRelay, "on_event"),  # hub -> pop-ups on the agents' pages
    ("telegram-notifier", CallNotifier, "handle"),  # hub -> the bot's outbox
    ("dialer", DialerRunner, "_on_event"),  # hub -> the auto-dialer's board
    ("presence", PresenceRelay, "on_event"),  # PBX link -> phone states
    ("dialer-ami", DialerRunner, "on_ami_event"),  # PBX link -> the dialer's hang-ups
]


class Breaker:
    """Makes one consumer raise on every event while it is `broken`; counts what it broke."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.broken: str | None = None
        self.failures: dict[str, int] = {}
        for name, cls, method in CONSUMERS:
            monkeypatch.setattr(cls, method, self._wrap(name, getattr(cls, method)))

    def _wrap(
        self, name: str, handler: Callable[..., Awaitable[None]]
    ) -> Callable[..., Awaitable[None]]:
        async def maybe_broken(consumer: Any, event: Any) -> None:
            if self.broken == name:
                self.failures[name] = self.failures.get(name, 0) + 1
                raise RuntimeError(f"{name} is broken")
            await handler(consumer, event)

        return maybe_broken


def _settings(tmp_path, database, **extra: Any) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": str(tmp_path),
            "database": {"url": database},
            "web": {"port": 0},
            "ami": {"simulator_demo": False},
            **extra,
        }
    )


def _digits(data: Any) -> str:
    """The digits of a message, however its numbers are spaced."""
    return re.sub(r"\D", "", json.dumps(data))


async def _popup_for(ws: aiohttp.ClientWebSocketResponse, digits: str) -> dict[str, Any]:
    """The next "ringing" message on the agent's live socket about a number ending in digits."""
    while True:
        message = await ws.receive_json(timeout=30)
        if message.get("type") == "ringing" and digits in _digits(message):
            return message


async def test_a_broken_consumer_never_stops_the_others(
    world, tmp_path, database, monkeypatch, caplog
):
    breaker = Breaker(monkeypatch)
    api = FakeBotApi()
    await api.start()
    code = await telegram.create_link_code(world.luis, clock=SystemClock())
    await telegram.link_chat(code, 777_101, clock=SystemClock())
    settings = _settings(tmp_path, database, telegram={"token": api.token, "api_url": api.base_url})
    rt = await root.start(settings, simulator_speed=50, open_database=False)
    try:
        await rt.telephony.link.wait_ready(10)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await http_login(http, rt.web_url, "luis", world.password)
            async with http.ws_connect(f"{rt.web_url}/ws", origin=rt.web_url) as ws:
                await ws.send_str("ping")
                assert (await ws.receive_json(timeout=30))["type"] == "pong"  # registered
                for n, (name, _, _) in enumerate(CONSUMERS):
                    breaker.broken = name
                    digits = f"6001113{n:02d}"
                    call = await rt.telephony.simulator.inbound_call(
                        f"+34 {digits}", "900100200", ["101"], answer_by="101", talk=5
                    )
                    if name != "web-live":  # the pop-up still reaches the agent's page
                        popup = await _popup_for(ws, digits)
                        assert popup["direction"] == "in"
                    if name != "telegram-notifier":  # ... and the bot's chat
                        await eventually(
                            lambda d=digits: any(
                                d in _digits(c.params) for c in api.calls_of("sendMessage")
                            ),
                            within=30,
                        )
                    await asyncio.wait_for(call.done(), 30)
                    await _wait_stored(digits)
                    await rt.telephony.calls.drain()
                    await rt.hub.drain()  # every consumer saw this call, broken or not
                    breaker.broken = None
                    assert breaker.failures.get(name, 0) > 0, f"{name} never got an event"
        stored = await Call.filter(agent_id=world.luis.id).count()
        assert stored == len(CONSUMERS)  # every call stored, with its agent
        logged = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
        for name in ("web-live", "telegram-notifier", "dialer"):
            assert f"subscriber {name} failed" in logged
        assert logged.count("AMI consumer") >= 2  # presence and the dialer's hang-ups
    finally:
        await root.stop(rt)
        await api.stop()


async def _wait_stored(digits: str) -> None:
    async def stored() -> bool:
        return await Call.filter(peer_e164__endswith=digits).exists()

    for _ in range(600):
        if await stored():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the call from {digits} was not stored")


async def test_a_crashed_loop_is_restarted_and_a_stop_leaves_no_task(
    world, tmp_path, database, monkeypatch, caplog
):
    """The dialer's watcher crashes once: the supervisor logs it and starts it again."""
    watch = DialerRunner._watch
    restarted = asyncio.Event()
    runs = 0

    async def crashes_once(runner: DialerRunner) -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("the watcher hit a bug")
        restarted.set()
        await watch(runner)

    monkeypatch.setattr(DialerRunner, "_watch", crashes_once)
    before = asyncio.all_tasks()
    rt = await root.start(_settings(tmp_path, database), simulator_speed=50, open_database=False)
    try:
        await asyncio.wait_for(restarted.wait(), 30)
        assert rt.supervisor.restarts == {"dialer": 1}
        assert "dialer" in rt.supervisor.names and "outbox-worker" in rt.supervisor.names
        assert any("task dialer crashed" in r.getMessage() and r.exc_info for r in caplog.records)
        # The product still works: a call rings, is answered and stored.
        await rt.telephony.link.wait_ready(10)
        call = await rt.telephony.simulator.inbound_call(
            "+34 600 222 444", "900100200", ["101"], answer_by="101", talk=5
        )
        await asyncio.wait_for(call.done(), 30)
        await _wait_stored("600222444")
    finally:
        await root.stop(rt)
    assert rt.supervisor.names == []
    left = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert sorted(t.get_name() for t in left) == []
