"""The auto-dialer's pages in Chromium (issue 14 item 5): clients and leads put on a list by
their checkboxes and by "all N matching the filters", the list's page following the PBX
simulator's calls without a reload, a result's link opening the call, and the widget's
controls (Detener included) whole at 1366 and 390 px.

Screenshots land in test-artifacts/screenshots/ (dialer-*.png).
"""

from __future__ import annotations

import re
from contextlib import AsyncExitStack

import pytest

from daemon.dialer import DialerRunner, channel_calls, live_calls
from daemon.telephony import start_telephony
from models.contacts.clients import ClientInput, create_client
from models.core.settings import Settings
from models.sales.leads import LeadInput, create_lead
from models.schema.dialer import DialerEntry, DialerList
from models.schema.users import User
from models.telephony import dialer as dialer_ops
from tests.daemon import pbxsim_fixtures as fx
from tests.daemon.pbxsim_fixtures import ami_settings
from tests.web.conftest import CHROMIUM_ARGS, login, screenshot  # noqa: F401

sim = fx.sim
PHONE, WIDE = {"width": 390, "height": 844}, {"width": 1366, "height": 860}


@pytest.fixture
async def english(world):
    """The browser tests read the English texts (the panel's default is Spanish)."""
    await User.all().update(language="en")
    return world


@pytest.fixture
async def dialer_line(sim, hub, clock, english):
    """The daemon's telephony side on the PBX simulator, with the auto-dialer's runner."""
    async with AsyncExitStack() as stack:
        telephony = await start_telephony(stack, Settings(ami=ami_settings(sim)), hub, clock)
        await telephony.link.wait_ready(10)
        runner = DialerRunner(
            hub,
            clock,
            gap_seconds=0.05,
            poll_interval=0.05,
            link_ready=lambda: telephony.link.is_ready,
            agent_calls=channel_calls(telephony.commands.directory),
            live_linkedids=live_calls(telephony.commands.directory),
        )
        telephony.listeners.add(runner.on_ami_event)
        await runner.start()
        yield runner
        await runner.stop()


async def _entries(list_id: int) -> list[DialerEntry]:
    return list(await DialerEntry.filter(dialer_list_id=list_id).order_by("position"))


async def _newest_list() -> DialerList:
    return await DialerList.all().order_by("-id").first()


async def test_clients_and_leads_join_a_list_by_ticks_and_by_all_matching(
    english, world_server, page
):
    world = english
    clients = [
        await create_client(
            world.luis, ClientInput(name=f"Client {n:02d}", phones=[f"+3491120{n:04d}"])
        )
        for n in range(55)
    ]
    leads = [
        await create_lead(world.luis, LeadInput(name=f"Lead {n:02d}", phones=[f"+3491130{n:04d}"]))
        for n in range(52)
    ]
    await login(page, world_server.url, "luis", world.password)

    # Clients, two ticked (the page lists the newest 50).
    await page.goto(f"{world_server.url}/clients")
    await page.check(f"input[name=client_ids][value='{clients[50].id}']")
    await page.check(f"input[name=client_ids][value='{clients[54].id}']")
    await page.click("#bulk-dialer")
    await page.wait_for_url(re.compile(r".*/dialer/\d+$"))
    ticked = await _newest_list()
    assert [e.client_id for e in await _entries(ticked.id)] == [clients[54].id, clients[50].id]
    assert await page.locator("tr[data-entry]").count() == 2

    # Clients, all 55 matching (the page shows 50).
    await page.goto(f"{world_server.url}/clients")
    offer = page.locator("[data-select-matching]")
    assert await offer.is_hidden()
    await page.check("input[data-select-all=clients-bulk]")
    await offer.wait_for()
    await page.set_viewport_size(PHONE)
    await screenshot(page, "dialer-clients-offer-390")
    await page.set_viewport_size(WIDE)
    await screenshot(page, "dialer-clients-offer-1366")
    await page.click("[data-select-all-matching]")
    assert "All 55 clients matching the filters are selected." in await offer.inner_text()
    await page.click("#bulk-dialer")
    await page.wait_for_url(re.compile(r".*/dialer/\d+$"))
    everyone = await _newest_list()
    assert everyone.id != ticked.id
    assert sorted(e.client_id for e in await _entries(everyone.id)) == sorted(c.id for c in clients)
    assert await page.locator("tr[data-entry]").count() == 55

    # Unticking a row after "all matching" goes back to the ticked rows only.
    await page.goto(f"{world_server.url}/clients")
    await page.check("input[data-select-all=clients-bulk]")
    await page.click("[data-select-all-matching]")
    await page.uncheck(f"input[name=client_ids][value='{clients[54].id}']")
    assert await page.input_value("input[name=all_matching]") == ""

    # Leads, two ticked (the rows keep their own "Take" forms).
    await page.goto(f"{world_server.url}/leads")
    await page.check(f"input[name=lead_ids][value='{leads[50].id}']")
    await page.check(f"input[name=lead_ids][value='{leads[51].id}']")
    await page.click("#bulk-dialer")
    await page.wait_for_url(re.compile(r".*/dialer/\d+$"))
    two = await _newest_list()
    assert [e.lead_id for e in await _entries(two.id)] == [leads[51].id, leads[50].id]
    assert await page.locator("tr[data-entry] .badge", has_text="lead").count() == 2

    # Leads, all 52 matching "My leads".
    await page.goto(f"{world_server.url}/leads?view=mine")
    await page.check("input[data-select-all=leads-bulk]")
    await page.click("[data-select-all-matching]")
    await screenshot(page, "dialer-leads-all-matching-1366")
    await page.click("#bulk-dialer")
    await page.wait_for_url(re.compile(r".*/dialer/\d+$"))
    all_leads = await _newest_list()
    assert sorted(e.lead_id for e in await _entries(all_leads.id)) == sorted(
        lead.id for lead in leads
    )


async def test_the_list_page_follows_the_calls_live_and_a_result_opens_its_call(
    sim, dialer_line, english, world_server, page, clock, browser
):
    world = english
    a, b, c = "+34911000001", "+34911000002", "+34911000003"
    sim.script_number(a, "answer", ring=2, talk=1200)  # 6 s of real time at the sim's speed
    sim.script_number(b, "noanswer")
    sim.script_number(c, "busy")
    client = await create_client(world.luis, ClientInput(name="Bodegas Rioja", phones=[a]))
    dialer = await dialer_ops.create_list(
        world.luis, "Feria", clock=clock, client_ids=[client.id], numbers=[b, c]
    )
    await login(page, world_server.url, "luis", world.password)
    await page.goto(f"{world_server.url}/dialer/{dialer.id}")
    assert "0 called (0 answered), 3 to dial, 0 skipped" in await page.inner_text(
        "#dialer-progress"
    )
    await page.evaluate("window.notReloaded = true")

    await dialer_ops.start_list(world.luis, dialer.id, clock=clock)
    dialer_line.wake()
    # The first call under way shows without a reload...
    await page.wait_for_selector("#dialer-dialing:not([hidden])", timeout=20_000)
    assert "Bodegas Rioja" in await page.inner_text("#dialer-dialing")
    assert await page.get_attribute("#dialer-status", "data-status") == "running"
    await page.set_viewport_size(PHONE)
    await screenshot(page, "dialer-list-live-390")
    await page.set_viewport_size(WIDE)
    await screenshot(page, "dialer-list-live-1366")
    # ...then each number's result, until the list is finished.
    await page.wait_for_selector("#dialer-status[data-status=finished]", timeout=30_000)
    results = await page.eval_on_selector_all(
        "tr[data-entry]", "rows => rows.map(r => [r.dataset.state, r.dataset.result])"
    )
    assert results == [["done", "answered"], ["done", "no_answer"], ["done", "busy"]]
    assert "3 called (1 answered), 0 to dial, 0 skipped" in await page.inner_text(
        "#dialer-progress"
    )
    assert await page.evaluate("window.notReloaded") is True
    assert await page.locator("button[data-action=start]").is_disabled()

    # The answered number's result links to its call, which opens.
    [first, *_] = await _entries(dialer.id)
    link = page.locator(f"tr[data-entry='{first.id}'] .dialer-result a")
    assert await link.get_attribute("href") == f"/calls/{first.call_id}"
    await link.click()
    await page.wait_for_url(re.compile(rf".*/calls/{first.call_id}$"))
    assert await page.locator(f".call-detail[data-call-id='{first.call_id}']").count() == 1
    assert "Bodegas Rioja" in await page.inner_text(".call-detail")
    await screenshot(page, "dialer-call-page-1366")


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["390", "1366"])
async def test_the_widget_dialer_controls_are_whole(world, world_server, browser, clock, viewport):
    """In Spanish, the panel's default, whose labels are the longest (Reanudar, Detener)."""
    await dialer_ops.create_list(world.luis, "Ruta", clock=clock, numbers=["+34911000001"])
    context = await browser.new_context(viewport=viewport, locale="es-ES")
    try:
        page = await context.new_page()
        await login(page, world_server.url, "luis", world.password)
        await page.click(".cw-toggle")
        await page.click("[role=tab][data-tab=dialer]")
        await page.locator("#cw-dialer-current:not([hidden])").wait_for()
        assert await page.inner_text("[data-dialer-action=stop]") == "Detener"
        widget = await page.locator("#call-widget").bounding_box()
        # Nothing sticks out sideways: the widget's body does not scroll horizontally...
        assert await page.eval_on_selector(".cw-body", "b => b.scrollWidth <= b.clientWidth")
        for action in ("start", "pause", "resume", "skip", "stop"):
            button = page.locator(f"[data-dialer-action={action}]")
            box = await button.bounding_box()
            # ...each button lies inside the widget and the screen...
            assert (
                box["x"] >= widget["x"] and box["x"] + box["width"] <= widget["x"] + widget["width"]
            )
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
            # ...and its label fits it.
            assert await button.evaluate("b => b.scrollWidth <= b.clientWidth"), action
        await screenshot(page, f"dialer-widget-{viewport['width']}")
    finally:
        await context.close()
