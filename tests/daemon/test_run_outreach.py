"""`centralita run` with the auto-dialer and SMS: one process, the built-in simulator, a list
started from the panel's API is dialed, an SMS from the panel goes out through chan_dongle and
is delivered, an inbound SMS from an unknown number makes a lead."""

from __future__ import annotations

import asyncio

import aiohttp

from daemon import app as root
from models.core.settings import Settings
from models.schema.activity import Sms
from models.schema.dialer import DialerEntry
from models.schema.leads import Lead
from tests.web.conftest import csrf_from, http_login


async def _until(predicate, within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not await predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


async def test_run_dials_a_list_and_sends_and_receives_sms_over_the_dongle(
    world, tmp_path, database
):
    settings = Settings.model_validate(
        {
            "data_dir": str(tmp_path),
            "database": {"url": database},
            "web": {"port": 0},
            "ami": {"simulator_demo": False},
            "dialer": {"gap_seconds": 0.05},
            "sms": {"driver": "dongle"},
        }
    )
    rt = await root.start(settings, simulator_speed=100, open_database=False)
    try:
        sim = rt.telephony.simulator
        await rt.telephony.link.wait_ready(10)
        sim.script_number("+34911000001", "answer", ring=1, talk=3)
        sim.script_number("+34911000002", "busy")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await http_login(http, rt.web_url, "luis", world.password)
            async with http.get(f"{rt.web_url}/sms/new") as resp:
                token = csrf_from(await resp.text())
            headers = {"X-CSRF-Token": token, "Accept": "application/json"}
            async with http.post(
                f"{rt.web_url}/api/dialer/lists",
                json={"numbers": ["+34911000001", "+34911000002"]},
                headers=headers,
            ) as resp:
                list_id = (await resp.json())["id"]
            async with http.post(
                f"{rt.web_url}/api/dialer/lists/{list_id}/start", headers=headers
            ) as resp:
                assert resp.status == 200
            async with http.post(
                f"{rt.web_url}/sms/new",
                data={"csrf_token": token, "to": "+34600000001", "text": "Hola"},
            ) as resp:
                assert resp.status == 200

        async def dialed() -> bool:
            rows = await DialerEntry.filter(dialer_list_id=list_id).order_by("position")
            return [r.result for r in rows] == ["answered", "busy"]

        await _until(dialed)
        await _until(lambda: Sms.filter(text="Hola", status="delivered").exists())
        sim.dongle.receive("+34622333444", "Llamadme")
        await _until(lambda: Lead.filter(source="sms").exists())
    finally:
        await root.stop(rt)
