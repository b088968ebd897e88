"""SMS switched off (`[sms] driver = "none"`, the default) in Chromium (issue 14 item 4): the
client card's SMS button and its ••• entry in the same disabled state with the same reason,
the bulk SMS page's banner and refusal, and the task form's SMS type.

Screenshots land in test-artifacts/screenshots/ (sms-off-*.png), at 1366 and 390 px.
"""

from __future__ import annotations

import re

import pytest

from models.contacts.clients import ClientInput, create_client
from models.schema.activity import Sms
from models.schema.tasks import Task
from models.schema.users import User
from tests.web.conftest import login, screenshot

REASON = "SMS is not configured on this CRM"
PHONE, WIDE = {"width": 390, "height": 844}, {"width": 1366, "height": 860}


@pytest.fixture
async def english(world):
    await User.all().update(language="en")
    return world


async def _both_widths(page, name: str) -> None:
    for size in (WIDE, PHONE):
        await page.set_viewport_size(size)
        await screenshot(page, f"sms-off-{name}-{size['width']}")
    await page.set_viewport_size(WIDE)


async def test_the_card_and_its_menu_show_sms_off_the_same_way(english, world_server, page):
    world = english
    client = await create_client(world.luis, ClientInput(name="Eva Soto", phones=["+34600000001"]))
    await login(page, world_server.url, "luis", world.password)
    await page.goto(f"{world_server.url}/clients/{client.id}")
    button = page.locator("[data-sms-button]")
    assert await button.is_disabled()
    assert await button.get_attribute("title") == REASON
    assert "Ask an administrator to set up an SMS gateway." in await page.inner_text(".sms-off")
    await page.click(".menu summary")
    entry = page.locator("[data-sms-entry]")
    await entry.wait_for()
    assert await entry.get_attribute("aria-disabled") == "true"
    assert await entry.get_attribute("title") == REASON
    assert await page.locator(".menu-items a[href^='/sms/new']").count() == 0
    await _both_widths(page, "card")


async def test_bulk_sms_shows_the_banner_and_the_task_form_refuses_an_sms_task(
    english, world_server, page
):
    world = english
    client = await create_client(world.ana, ClientInput(name="Eva Soto", phones=["+34600000001"]))
    await login(page, world_server.url, "ana", world.password)

    # Bulk SMS from the clients list: the page says why, and to an admin where to turn it on.
    await page.goto(f"{world_server.url}/clients")
    await page.check(f"input[name=client_ids][value='{client.id}']")
    assert await page.get_attribute("#bulk-sms", "title") == REASON
    await page.click("#bulk-sms")
    banner = page.locator(".flash.sms-off")
    await banner.wait_for()
    text = await banner.inner_text()
    assert REASON in text and "[sms] driver" in text and "config.toml" in text
    assert await page.locator("form[action='/clients/bulk-sms'] button[type=submit]").is_disabled()
    assert "Please correct the fields marked below" not in await page.inner_text("main")
    await _both_widths(page, "bulk")
    assert await Sms.all().count() == 0

    # The task form: SMS offered disabled with the reason; picked anyway, refused on the type.
    await page.goto(f"{world_server.url}/tasks/new?client_id={client.id}")
    assert await page.locator("#f-kind option[value=sms]").is_disabled()
    assert REASON in await page.inner_text(".field:has(#f-kind)")
    await page.goto(f"{world_server.url}/tasks/new?client_id={client.id}&kind=sms")
    await page.fill("#f-title", "Appointment reminder")
    await page.fill("#f-sms_text", "See you tomorrow")
    await page.click("form[action='/tasks/new'] button[type=submit]")
    error = page.locator(".field.has-error:has(#f-kind) .field-error")
    await error.wait_for()
    assert await error.inner_text() == REASON
    assert re.search(r"/tasks/new$", page.url)
    await _both_widths(page, "task")
    assert await Task.filter(kind="sms").count() == 0
