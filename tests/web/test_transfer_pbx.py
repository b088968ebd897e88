"""Transfers seen by the agents, end to end: the PBX simulator over TCP with the daemon's own
telephony (`start_telephony`), the panel, the websocket and Chromium.

The PBX keeps the colleagues' extensions in a context of their own, `[ami] transfer_context =
"colleagues"`, which has 101 and 102 but not Ana's 100.
"""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from daemon.telephony import start_telephony
from models.core.events import HangupCall
from models.schema.calls import Call
from models.schema.users import User
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    log_in,
    panel,
    screenshot,
)


@pytest.fixture
async def telephony(panel, clock):
    ami = panel.settings.ami.model_copy(
        update={"simulator_demo": False, "transfer_context": "colleagues"}
    )
    settings = panel.settings.model_copy(update={"ami": ami})
    async with AsyncExitStack() as stack:
        started = await start_telephony(stack, settings, panel.hub, clock, simulator_speed=20.0)
        assert started.simulator is not None
        started.simulator.define_context("colleagues", ["101", "102"])
        await started.link.wait_ready(10)
        yield started


async def _stored(telephony, linkedid: str, within: float = 30.0) -> Call:
    """The call once stored: the last hang-up still travels over TCP to the tracker."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        await telephony.calls.drain()
        stored = await Call.get_or_none(linkedid=linkedid)
        if stored is not None:
            return stored
        if loop.time() > end:
            raise AssertionError(f"call {linkedid} was never stored")
        await asyncio.sleep(0.01)


async def test_a_refused_transfer_keeps_the_call_and_says_why_a_good_one_is_listed(
    panel, telephony, contexts, world
):
    await User.filter(id=world.luis.id).update(language="es")
    luis = await log_in(await contexts(), panel, "luis", world.password)
    marta = await log_in(await contexts(), panel, "marta", world.password)
    sim = telephony.simulator
    call = await sim.inbound_call(
        "+34911555666", "900100200", ["101"], answer_by="101", answer_after=2.0, talk=3000.0
    )
    pop = luis.locator(f'.cw-popup[data-linkedid="{call.linkedid}"]')
    await pop.and_(luis.locator("[data-state=answered]")).wait_for(timeout=15000)

    # Ana is a colleague in the CRM, but the PBX has no 100 where transfers go.
    await pop.locator(".cw-pop-transfer-to").select_option("100")
    await pop.locator(".cw-pop-transfer").click()
    refused = pop.locator(".cw-pop-transfer-error")
    await refused.wait_for(timeout=15000)
    assert await refused.inner_text() == (
        "no se ha transferido la llamada: la centralita no tiene la extensión 100 en el "
        "contexto colleagues; la llamada sigue contigo"
    )
    assert await refused.get_attribute("role") == "alert"
    assert await pop.get_attribute("data-state") == "answered"
    assert any(c.name.startswith("PJSIP/carrier-") for c in sim.pbx.channels.values())
    assert sim.received("Redirect") == []
    await screenshot(luis, "transfer-refused-es")

    # To Marta it works: her pop-up opens, Luis's says where the call went.
    await pop.locator(".cw-pop-transfer-to").select_option("102")
    await pop.locator(".cw-pop-transfer").click()
    await pop.and_(luis.locator("[data-state=transferred]")).wait_for(timeout=15000)
    assert await refused.is_hidden()
    moved = marta.locator(f'.cw-popup[data-linkedid="{call.linkedid}"]')
    await moved.wait_for(timeout=15000)
    [redirect] = sim.received("Redirect")
    assert (redirect["Context"], redirect["Exten"]) == ("colleagues", "102")

    await panel.hub.send(HangupCall(linkedid=call.linkedid, extension="102"))
    await call.done()
    stored = await _stored(telephony, call.linkedid)
    assert stored.transfers == [{"from": "101", "to": "102", "kind": "blind"}]

    await luis.goto(panel.url + "/calls")
    row = luis.locator(f'tr.call[data-call-id="{stored.id}"]')
    assert "transferida por 101 a 102" in await row.inner_text()
    await screenshot(luis, "calls-list-transfer-es")
