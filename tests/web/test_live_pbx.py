"""End to end: the PBX simulator over TCP, the real AMI link, tracker and calls service (the
daemon's own `start_telephony`), the hub, the websocket, the browser.
"""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from daemon.telephony import start_telephony
from models.contacts.clients import ClientInput, create_client
from models.schema.calls import Call
from models.schema.leads import Lead
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    eventually,
    log_in,
    panel,
    screenshot,
)


@pytest.fixture
async def telephony(panel, clock):
    settings = panel.settings.model_copy(
        update={"ami": panel.settings.ami.model_copy(update={"simulator_demo": False})}
    )
    async with AsyncExitStack() as stack:
        started = await start_telephony(stack, settings, panel.hub, clock, simulator_speed=20.0)
        await started.link.wait_ready(10)
        yield started


async def test_a_pbx_call_pops_up_for_the_agent_it_rings_and_follows_it(
    panel, telephony, contexts, world
):
    await create_client(world.luis, ClientInput(name="Panadería Mar", phones=["+34911234567"]))
    luis = await log_in(await contexts(), panel, "luis", world.password)
    marta = await log_in(await contexts(), panel, "marta", world.password)
    sim = telephony.simulator
    call = await sim.inbound_call(
        "+34911234567", "900100200", ["101"], answer_by="101", answer_after=20.0, talk=40.0
    )
    pop = luis.locator(f'.cw-popup[data-linkedid="{call.linkedid}"]')
    await pop.wait_for(timeout=15000)
    assert await pop.locator(".cw-pop-name").inner_text() == "Panadería Mar"
    await pop.and_(luis.locator("[data-state=answered]")).wait_for(timeout=15000)
    await pop.and_(luis.locator("[data-state=ended]")).wait_for(timeout=15000)
    assert "0:40" in await pop.locator(".cw-pop-state").inner_text()
    assert await marta.locator(".cw-popup").count() == 0
    await eventually(lambda: panel.sockets_of(world.marta.id) == 1)


async def test_an_unknown_caller_saved_while_ringing_gets_one_lead(
    panel, telephony, contexts, world
):
    luis = await log_in(await contexts(), panel, "luis", world.password)
    call = await telephony.simulator.inbound_call(
        "+34622000999", "900100200", ["101"], answer_by="101", answer_after=20.0, talk=40.0
    )
    pop = luis.locator(f'.cw-popup[data-linkedid="{call.linkedid}"]')
    await pop.wait_for(timeout=15000)
    await pop.locator(".cw-pop-save input[name=name]").fill("Jaime Torres")
    await pop.locator(".cw-pop-save button[type=submit]").click()
    await pop.locator(".cw-pop-name:text('Jaime Torres')").wait_for()
    await call.done()
    stored = None
    for _ in range(1000):  # the hang-up still travels over TCP to the tracker
        await telephony.calls.drain()
        stored = await Call.get_or_none(linkedid=call.linkedid)
        if stored is not None:
            break
        await asyncio.sleep(0.01)
    assert stored is not None
    leads = await Lead.all()
    assert [lead.name for lead in leads] == ["Jaime Torres"]  # no auto-lead besides it
    assert stored.lead_id == leads[0].id


async def test_a_transfer_through_the_pbx_moves_the_pop_up(panel, telephony, contexts, world):
    luis = await log_in(await contexts(), panel, "luis", world.password)
    marta = await log_in(await contexts(), panel, "marta", world.password)
    call = await telephony.simulator.inbound_call(
        "+34911555666", "900100200", ["101"], answer_by="101", answer_after=2.0, talk=3000.0
    )
    pop = luis.locator(f'.cw-popup[data-linkedid="{call.linkedid}"]')
    await pop.and_(luis.locator("[data-state=answered]")).wait_for(timeout=15000)
    await pop.locator(".cw-pop-transfer-to").select_option("102")
    await pop.locator(".cw-pop-transfer").click()
    await pop.and_(luis.locator("[data-state=transferred]")).wait_for(timeout=15000)
    moved = marta.locator(f'.cw-popup[data-linkedid="{call.linkedid}"]')
    await moved.wait_for(timeout=15000)
    await screenshot(marta, "pbx-transfer-received")
