"""`centralita run` end to end: one process, the simulator rings, the call is stored and served."""

from __future__ import annotations

import asyncio

import aiohttp

from daemon import app as root
from models.core.settings import Settings
from models.schema.calls import Call
from models.schema.leads import Lead


async def test_run_starts_web_and_records_a_simulated_call(world, tmp_path, database):
    settings = Settings.model_validate(
        {
            "data_dir": str(tmp_path),
            "database": {"url": database},
            "web": {"port": 0},
            "ami": {"simulator_demo": False},
        }
    )
    rt = await root.start(settings, simulator_speed=50, open_database=False)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{rt.web_url}/healthz") as resp:
                assert resp.status == 200
            async with http.get(f"{rt.web_url}/clients", allow_redirects=False) as resp:
                assert resp.status in (302, 303)  # not logged in: sent to the login page
        assert rt.telephony.simulator is not None
        await rt.telephony.link.wait_ready(10)
        call = await rt.telephony.simulator.inbound_call(
            "+34 600 999 888", "900100200", ["101", "102"], answer_by="102", talk=20
        )
        await asyncio.wait_for(call.done(), 30)
        for _ in range(600):
            rows = await Call.all()
            if rows:
                break
            await asyncio.sleep(0.05)
        assert len(rows) == 1
        stored = rows[0]
        assert (stored.direction, stored.result, stored.agent_id) == (
            "in",
            "answered",
            world.marta.id,
        )
        lead = await Lead.get(id=stored.lead_id)
        assert lead.responsible_id == world.marta.id and lead.source == "call"
    finally:
        await root.stop(rt)


async def test_run_with_a_bot_token_notifies_the_linked_agent_of_a_call(world, tmp_path, database):
    """The whole product: simulated PBX -> tracker -> hub -> notifier -> outbox -> Bot API."""
    from models.messaging import telegram_links as telegram
    from tests.bot.fake_bot_api import FakeBotApi

    api = FakeBotApi()
    await api.start()
    settings = Settings.model_validate(
        {
            "data_dir": str(tmp_path),
            "database": {"url": database},
            "web": {"port": 0},
            "ami": {"simulator_demo": False},
            "telegram": {"token": api.token, "api_url": api.base_url},
        }
    )
    code = await telegram.create_link_code(world.luis, clock=_clock())
    await telegram.link_chat(code, 777_101, clock=_clock())
    rt = await root.start(settings, simulator_speed=50, open_database=False)
    try:
        assert {"task-reminders", "daily-digests", "housekeeping"} <= set(rt.scheduler.job_names)
        await rt.telephony.link.wait_ready(10)
        await api.wait_for("getUpdates", within=30)  # long polling is running
        call = await rt.telephony.simulator.inbound_call(
            "+34 600 111 333", "900100200", ["101"], answer_by="101", talk=10
        )
        await asyncio.wait_for(call.done(), 30)
        sent = await api.wait_for("sendMessage", within=30)
        assert sent[0].params["chat_id"] in (777_101, "777101")
        assert "600" in str(sent[0].params["text"])
    finally:
        await root.stop(rt)
        await api.stop()


def _clock():
    from models.core.clock import SystemClock

    return SystemClock()


async def test_run_without_a_pbx_makes_demo_calls(world, tmp_path, database):
    """No [ami] host: the simulator's demo traffic rings the team and the calls are stored."""
    settings = Settings.model_validate(
        {"data_dir": str(tmp_path), "database": {"url": database}, "web": {"port": 0}}
    )
    rt = await root.start(settings, simulator_speed=200, open_database=False)
    try:
        # Some demo calls are missed (no agent); wait for one a team member answered or made.
        for _ in range(1200):
            if await Call.exclude(agent_extension="").exists():
                break
            await asyncio.sleep(0.05)
        call = await Call.exclude(agent_extension="").first()
        assert call is not None
        assert call.agent_extension in {"100", "101", "102"}
        assert call.agent_id in {world.ana.id, world.luis.id, world.marta.id}
    finally:
        await root.stop(rt)
