"""The widget's auto-dialer tab in Chromium (Q1): a list made from the keypad and the contacts
found, started and paused from the tab, each number's result on the list's page."""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

from models.contacts.clients import ClientInput, create_client
from models.telephony import dialer as dialer_ops
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    log_in,
    panel,
    screenshot,
)


async def test_dialer_tab_makes_a_list_from_keypad_and_search_and_drives_it(panel, contexts, world):
    await create_client(world.luis, ClientInput(name="Bodegas Rioja", phones=["+34941222333"]))
    page = await log_in(await contexts(), panel, "luis", world.password)
    await page.click(".cw-toggle")
    await page.fill("#cw-number", "+34911000001")
    await page.fill("#cw-search", "Bodegas")
    await page.locator("#cw-contacts [data-phone]").first.wait_for()
    await page.click("[role=tab][data-tab=dialer]")
    await page.click("#cw-dialer-new")
    await page.locator("#cw-dialer-current:not([hidden])").wait_for()
    [current] = await dialer_ops.lists_of(world.luis)
    view = await dialer_ops.view_list(world.luis, current.id)
    assert [e.e164 for e in view.entries] == ["+34911000001", "+34941222333"]
    assert "2 / 0 / 0" in await page.locator(".cw-dialer-counts").inner_text()

    await page.click("[data-dialer-action=start]")
    await page.locator(".cw-dialer-status", has_text="running").wait_for()
    await page.click("[data-dialer-action=pause]")
    await page.locator(".cw-dialer-status", has_text="paused").wait_for()
    await screenshot(page, "widget-dialer")

    await page.goto(f"{panel.url}/dialer/{current.id}")
    assert await page.locator("tr[data-entry]").count() == 2
