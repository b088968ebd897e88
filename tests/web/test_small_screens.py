"""Every main page on a phone (390 px wide) and on a laptop (1366 px): nothing wider than the
screen, no id used twice (issue 14, item 12). Screenshots of each land in test-artifacts.

Wide content scrolls inside its own box (tables, the kanban), never the whole page.
"""

from __future__ import annotations

import pytest

from tests.list_world import seed
from tests.web.conftest import login, screenshot

MAIN_PAGES = {
    "dashboard": "/",
    "clients": "/clients",
    "client-card": "/clients/{client}",
    "leads": "/leads?view=all&status=any",
    "deals": "/deals",
    "deals-list": "/deals?view=list",
    "tasks": "/tasks?scope=all&status=any",
    "calendar": "/calendar",
    "calls": "/calls",
    "analytics": "/analytics",
    "team": "/team",
    "settings": "/settings/profile",
    "working-hours": "/settings/hours",
    "imports": "/imports/new",
    "dialer": "/dialer",
}

LAYOUT = """() => {
  const seen = {};
  for (const element of document.querySelectorAll("[id]")) {
    seen[element.id] = (seen[element.id] || 0) + 1;
  }
  return {
    width: document.documentElement.scrollWidth,
    twice: Object.keys(seen).filter((id) => seen[id] > 1),
  };
}"""


@pytest.mark.parametrize("width", [390, 1366])
async def test_every_main_page_fits_the_screen_and_has_unique_ids(
    world, world_server, browser, width
):
    made = await seed(world)
    context = await browser.new_context(viewport={"width": width, "height": 844}, locale="es-ES")
    page = await context.new_page()
    page.set_default_timeout(10_000)
    try:
        await login(page, world_server.url, "ana", world.password)
        problems = []
        for name, path in MAIN_PAGES.items():
            url = world_server.url + path.format(client=made.clients["Beatriz Alba"])
            response = await page.goto(url)
            assert response.status == 200, url
            layout = await page.evaluate(LAYOUT)
            if layout["width"] > width + 1:
                problems.append(f"{name}: {layout['width']} px wide")
            if layout["twice"]:
                problems.append(f"{name}: ids used twice: {layout['twice']}")
            await screenshot(page, f"{width}-{name}")
        assert problems == []
    finally:
        await context.close()


async def test_on_a_phone_the_menu_folds_and_wide_boxes_scroll_inside(world, world_server, browser):
    await seed(world)
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="es-ES")
    page = await context.new_page()
    page.set_default_timeout(10_000)
    try:
        await login(page, world_server.url, "ana", world.password)
        toggle = page.locator("[data-toggle-nav]")
        assert await toggle.inner_text() == "☰ Menú"
        assert not await page.locator("#main-nav").is_visible()
        await toggle.click()
        assert await toggle.get_attribute("aria-expanded") == "true"
        assert await page.locator("#main-nav a[href='/clients']").is_visible()
        await screenshot(page, "390-menu-open")
        async with page.expect_navigation():
            await page.click("#main-nav a[href='/deals']")
        # The kanban's six columns scroll sideways inside it; the page does not.
        kanban = await page.eval_on_selector(
            ".kanban", "k => [k.scrollWidth > k.clientWidth + 100, k.clientWidth <= 390]"
        )
        assert kanban == [True, True]
        await page.goto(f"{world_server.url}/calls")
        # The filters start folded on a phone: the list comes first.
        assert not await page.locator("#call-filters").is_visible()
        assert await page.locator("table.list.calls").is_visible()
        await page.click("[data-toggle-filters]")
        assert await page.locator("#call-filters").is_visible()
    finally:
        await context.close()
