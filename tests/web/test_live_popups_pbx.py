"""Pop-ups of real calls (issue 14, items 1-3), end to end: the PBX simulator over TCP, the AMI
link, tracker and calls service of the daemon (`start_telephony`), the hub, the websocket and
headless Chromium at a laptop's and a phone's size.
"""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from daemon.telephony import start_telephony
from models.contacts.clients import ClientInput, create_client
from models.contacts.notes import add_note
from models.sales.deals import create_deal
from models.schema.calls import Call
from models.schema.leads import Lead
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    eventually,
    panel,
    screenshot,
)

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def telephony(panel, clock):
    settings = panel.settings.model_copy(
        update={"ami": panel.settings.ami.model_copy(update={"simulator_demo": False})}
    )
    async with AsyncExitStack() as stack:
        started = await start_telephony(stack, settings, panel.hub, clock, simulator_speed=20.0)
        await started.link.wait_ready(10)
        yield started


async def _open(chromium, panel, world, viewport: dict[str, int], username: str = "luis"):
    """A browser of the size given, logged in as `username`, with the widget live."""
    context = await chromium.new_context(viewport=viewport)
    page = await context.new_page()
    await page.goto(panel.url + "/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", world.password)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#call-widget[data-live='1']")
    return context, page


async def _stored(telephony, linkedid: str) -> Call:
    for _ in range(1000):  # the last hang-up still travels over TCP to the tracker
        await telephony.calls.drain()
        call = await Call.get_or_none(linkedid=linkedid)
        if call is not None:
            return call
        await asyncio.sleep(0.01)
    raise AssertionError(f"call {linkedid} was never stored")


async def test_click_to_call_from_a_client_card_pops_up_with_the_client(
    panel, telephony, chromium, world, clock
):
    client = await create_client(
        world.luis,
        ClientInput(name="Ferretería Sol", phones=["+34 911 234 567"], company_name="Sol SL"),
        clock=clock,
    )
    await create_deal(world.luis, client.id, "Tornillería 2025", "1800", "EUR", clock=clock)
    # The client answers after 3 s and talks long enough for the browser to look.
    telephony.simulator.script_number("+34911234567", "answer", ring=3, talk=600)
    context, page = await _open(chromium, panel, world, LAPTOP)
    try:
        await page.goto(f"{panel.url}/clients/{client.id}")
        await page.wait_for_selector("#call-widget[data-live='1']")
        await page.click("button.call[data-phone]")

        pop = page.locator(".cw-popup")
        await pop.wait_for()
        assert await pop.get_attribute("data-direction") == "out"
        assert await pop.locator(".cw-pop-direction").inner_text() == "Outgoing call to"
        assert await pop.locator(".cw-pop-name").inner_text() == "Ferretería Sol"
        assert await pop.locator(".cw-pop-name").get_attribute("href") == f"/clients/{client.id}"
        assert await pop.locator(".cw-pop-company").inner_text() == "Sol SL"
        assert await pop.locator(".cw-pop-number").inner_text() == "+34911234567"
        assert "Tornillería 2025" in await pop.locator(".cw-pop-deals").inner_text()
        assert not await pop.locator(".cw-pop-save").is_visible()  # a client: nothing to save
        # The client answers: the same pop-up is the call in progress.
        await page.locator(".cw-popup[data-state=answered]").wait_for(timeout=15000)
        assert await page.locator(".cw-popup").count() == 1
        await screenshot(page, "popup-click-to-call-1366")
    finally:
        await context.close()


async def test_the_pbx_name_of_an_unknown_caller_names_the_pop_up_and_its_auto_lead(
    panel, telephony, chromium, world
):
    sim = telephony.simulator
    sim.scripts.ring_timeout = 400.0  # nobody answers; the caller gives up first
    context, page = await _open(chromium, panel, world, LAPTOP)
    try:
        call = await sim.inbound_call(
            "+34622111333", "900100200", ["101"], caller_name="José Núñez", abandon_after=60
        )
        pop = page.locator(f'.cw-popup[data-linkedid="{call.linkedid}"]')
        await pop.wait_for(timeout=15000)
        assert await pop.locator(".cw-pop-direction").inner_text() == "Incoming call from"
        assert await pop.locator(".cw-pop-name").inner_text() == "José Núñez"
        assert await pop.locator(".cw-pop-pbx").inner_text() == "(not in the CRM)"
        assert await pop.locator(".cw-pop-number").inner_text() == "+34622111333"
        # Saving it is one click: the name is already filled in.
        assert await pop.locator(".cw-pop-save input[name=name]").input_value() == "José Núñez"
        await screenshot(page, "popup-pbx-name-1366")

        await pop.and_(page.locator("[data-state=missed]")).wait_for(timeout=15000)
        stored = await _stored(telephony, call.linkedid)
        lead = await Lead.get(id=stored.lead_id)
        assert lead.name == "José Núñez"
        assert lead.responsible_id is None  # missed: anyone may take it
        assert stored.caller_name == "José Núñez"
        # The missed pop-up now shows the lead it became.
        await pop.locator(f'.cw-pop-name[href="/leads/{lead.id}"]').wait_for()
        assert await pop.locator(".cw-pop-name").inner_text() == "José Núñez"
    finally:
        await context.close()


async def _check_column(page, first: str, second: str) -> None:
    """Both pop-ups whole inside the viewport, close buttons clickable, the newest on top."""
    size = page.viewport_size
    boxes = {}
    for linkedid in (first, second):
        pop = page.locator(f'.cw-popup[data-linkedid="{linkedid}"]')
        box = await pop.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["y"] >= 0, (linkedid, box)
        assert box["x"] + box["width"] <= size["width"], (linkedid, box, size)
        assert box["y"] + box["height"] <= size["height"], (linkedid, box, size)
        # Actionability: visible, stable, enabled and not covered by anything else.
        await pop.locator(".cw-pop-close").click(trial=True, timeout=3000)
        await pop.locator(".cw-pop-min").click(trial=True, timeout=3000)
        boxes[linkedid] = box
    assert boxes[second]["y"] + boxes[second]["height"] <= boxes[first]["y"] + 1  # newest on top


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
async def test_two_calls_at_once_stay_inside_the_viewport_and_fold(
    panel, telephony, chromium, world, clock, viewport
):
    client = await create_client(
        world.luis,
        ClientInput(name="Panadería Mar", phones=["+34911555666"], company_name="Mar e Hijos"),
        clock=clock,
    )
    await create_deal(world.luis, client.id, "Hornos nuevos", "24000", "EUR", clock=clock)
    await add_note(
        world.luis,
        "Llamar antes de las 12, pregunta por el presupuesto",
        client_id=client.id,
        clock=clock,
    )
    sim = telephony.simulator
    context, page = await _open(chromium, panel, world, viewport)
    try:
        # A long form under the pop-ups' corner (like the import mapping).
        await page.goto(panel.url + "/clients/new")
        await page.wait_for_selector("#call-widget[data-live='1']")
        known = await sim.inbound_call(
            "+34911555666", "900100200", ["101"], answer_by="101", answer_after=900, talk=60
        )
        await page.locator(f'.cw-popup[data-linkedid="{known.linkedid}"]').wait_for()
        unknown = await sim.inbound_call(
            "+34622000111", "900100200", ["101"], answer_by="101", answer_after=900, talk=60
        )
        await page.locator(f'.cw-popup[data-linkedid="{unknown.linkedid}"]').wait_for()
        # The second (unknown) caller's pop-up has the save form: the tallest kind.
        second = page.locator(f'.cw-popup[data-linkedid="{unknown.linkedid}"]')
        assert await second.locator(".cw-pop-save").is_visible()
        await _check_column(page, known.linkedid, unknown.linkedid)
        await screenshot(page, f"popups-two-calls-{viewport['width']}")

        # Folded to a chip: one line with who calls; the other stays whole; unfolded again.
        first = page.locator(f'.cw-popup[data-linkedid="{known.linkedid}"]')
        tall = (await first.bounding_box())["height"]
        await first.locator(".cw-pop-min").click()
        chip = first.locator(".cw-pop-chip")
        await chip.wait_for()
        assert await chip.inner_text() == "Panadería Mar · +34911555666"
        assert not await first.locator(".cw-pop-body").is_visible()
        assert (await first.bounding_box())["height"] < 48 < tall
        assert await first.locator(".cw-pop-min").get_attribute("aria-expanded") == "false"
        assert await second.locator(".cw-pop-save").is_visible()
        await screenshot(page, f"popups-one-folded-{viewport['width']}")
        await chip.click()
        await first.locator(".cw-pop-body").wait_for()
        assert await first.locator(".cw-pop-name").is_visible()
        await _check_column(page, known.linkedid, unknown.linkedid)

        # The close buttons work: each pop-up goes away on its own.
        await second.locator(".cw-pop-close").click()
        assert await page.locator(".cw-popup").count() == 1
        await first.locator(".cw-pop-close").click()
        assert await page.locator(".cw-popup").count() == 0
    finally:
        await context.close()
