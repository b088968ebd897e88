"""Connecting Google Calendar in a real headless Chromium: the panel's Activate button, the
consent page of the local fake Google (tests/fakes/google_calendar.py) answered with Allow, the
way back to the panel through the daemon's real OAuth adapter, then the calendar picked and
saved. [web] public_url is the panel's own loopback address, as Google needs it to be."""

from __future__ import annotations

import re

import pytest

from models.schema.calendar_sync import GoogleCalendarLink
from models.schema.users import User
from tests.fakes.google_calendar import FakeGoogle
from tests.web.conftest import login, screenshot
from tests.web.test_settings_google import ANA_GOOGLE, LUIS_GOOGLE, SALES_ID, start_google_server


@pytest.fixture
async def fake_google():
    async with FakeGoogle() as fake:
        fake.add_account(LUIS_GOOGLE)
        fake.add_account(ANA_GOOGLE, calendars=["Sales"])
        yield fake


@pytest.fixture
async def srv(world, hub, clock, tmp_path, fake_google):
    await User.all().update(language="en")
    runner, server = await start_google_server(hub, clock, tmp_path, fake_google)
    yield server
    await runner.cleanup()


async def test_a_user_connects_google_calendar_and_picks_a_calendar(world, srv, page, fake_google):
    await login(page, srv.url, "ana", world.password)
    await page.goto(f"{srv.url}/settings/profile")
    await page.click(".settings-nav a[href='/settings/google']")
    await page.wait_for_url(re.compile(r".*/settings/google$"))
    await page.click("#google-connect")

    # Google's consent page: the account chosen, access allowed.
    await page.wait_for_url(re.compile(re.escape(fake_google.auth_uri) + r"\?.*"))
    assert await page.text_content("#client") == fake_google.client_id
    await page.check(f"input[name=account][value='{ANA_GOOGLE}']")
    await page.click("#allow")

    await page.wait_for_url(re.compile(re.escape(srv.url) + r"/settings/google$"))
    await page.wait_for_selector("text=Google Calendar connected. Choose the calendar.")
    assert await page.text_content("#google-account") == ANA_GOOGLE
    assert await page.input_value("#f-calendar_id") == ANA_GOOGLE  # the primary, until chosen
    await page.select_option("#f-calendar_id", SALES_ID)
    await page.uncheck("input[name=pull_from_google]")
    await page.click("#google-save")

    await page.wait_for_selector("text=Google Calendar settings saved.")
    assert await page.text_content("#google-account") == ANA_GOOGLE
    assert await page.text_content("#google-calendar-name") == "Sales"
    assert await page.input_value("#f-calendar_id") == SALES_ID
    assert await page.is_checked("input[name=push_to_google]")
    assert not await page.is_checked("input[name=pull_from_google]")
    await screenshot(page, "settings-google-calendar")
    link = await GoogleCalendarLink.get(user_id=world.ana.id)
    assert (link.calendar_id, link.pull_from_google) == (SALES_ID, False)
