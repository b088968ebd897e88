"""Subscribers made `after_live` (the Telegram notifier, the webhooks) let the pop-ups being
published go first (models/core/hub.py): under a burst of calls their database work waits
until the call path's live lane is idle, or LIVE_FIRST at most."""

from __future__ import annotations

import asyncio

from models.core import hub as hub_module
from models.core.hub import Hub


class Seen:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.arrived = asyncio.Event()

    async def __call__(self, event: str) -> None:
        self.events.append(event)
        self.arrived.set()


async def _let_others_run() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_late_subscriber_waits_while_pop_ups_are_published(monkeypatch):
    monkeypatch.setattr(hub_module, "LIVE_FIRST", 30.0)
    hub = Hub()
    live, late = Seen(), Seen()
    hub.subscribe("web-live", live)
    hub.subscribe("telegram", late, after_live=True)
    hub.live_idle.clear()  # the live lane has pop-ups to publish
    hub.publish("rang")
    await asyncio.wait_for(live.arrived.wait(), 5)
    await _let_others_run()
    assert live.events == ["rang"] and late.events == []
    hub.live_idle.set()  # the pop-ups are out
    await asyncio.wait_for(late.arrived.wait(), 5)
    assert late.events == ["rang"]
    await hub.close()


async def test_a_busy_live_lane_delays_a_late_subscriber_only_so_long(monkeypatch):
    monkeypatch.setattr(hub_module, "LIVE_FIRST", 0.05)
    hub = Hub()
    late = Seen()
    hub.subscribe("webhooks", late, after_live=True)
    hub.live_idle.clear()  # and never idle again
    for name in ("rang", "answered", "ended"):
        hub.publish(name)
    await asyncio.wait_for(hub.drain(), 5)
    assert late.events == ["rang", "answered", "ended"]  # all, in order
    await hub.close()


async def test_without_a_call_path_nobody_waits():
    hub = Hub()
    late = Seen()
    hub.subscribe("telegram", late, after_live=True)
    hub.publish("reminder")
    await asyncio.wait_for(late.arrived.wait(), 5)
    await hub.close()
