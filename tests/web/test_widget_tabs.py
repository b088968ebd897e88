"""The widget on every page (L2): keypad, SMS button state, contacts, history, team, dialer."""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

from datetime import timedelta

from models.contacts.clients import ClientInput, create_client
from models.core.events import CallRang, ExtensionStateChanged
from models.schema.calls import Call
from models.schema.company import TelephonySettings
from models.telephony.caller_directory import caller_card
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    eventually,
    log_in,
    panel,
    screenshot,
)


async def test_widget_tabs_show_contacts_history_and_the_team_state(panel, contexts, world, clock):
    client = await create_client(
        world.luis, ClientInput(name="Bodegas Rioja", phones=["+34941222333"])
    )
    await Call.create(
        linkedid="h-1",
        direction="out",
        from_number="101",
        to_number="+34941222333",
        result="answered",
        started_at=clock.now() - timedelta(minutes=5),
        talk_seconds=61,
        agent_id=world.luis.id,
        agent_extension="101",
        client_id=client.id,
    )
    panel.hub.publish(ExtensionStateChanged("102", "INUSE"))
    panel.hub.publish(CallRang("r-1", "in", "100", world.ana.id, await caller_card("+34600")))
    await panel.hub.drain()

    page = await log_in(await contexts(), panel, "luis", world.password)
    for path in ("/clients", "/calls", "/tasks"):
        await page.goto(panel.url + path)
        await page.locator("#call-widget[data-live='1']").wait_for()
    await page.click(".cw-toggle")
    # Keypad.
    for key in "600":
        await page.click(f".cw-keypad [data-key='{key}']")
    assert await page.input_value("#cw-number") == "600"
    # No SMS gateway: the button is off and says why.
    sms = page.locator("#cw-sms")
    assert await sms.is_disabled()
    assert await sms.get_attribute("title") == "SMS is not configured on this CRM"

    await page.fill("#cw-search", "Rioja")
    await page.locator("#cw-contacts li:has-text('Bodegas Rioja')").wait_for()
    assert await page.locator("#cw-contacts [data-phone='+34941222333']").count() == 1

    await page.click("[role=tab][data-tab=history]")
    item = page.locator("#cw-history li").first
    await item.wait_for()
    assert "Bodegas Rioja" in await item.inner_text() and "1:01" in await item.inner_text()

    await page.click("[role=tab][data-tab=team]")
    await page.locator("#cw-team li[data-extension='102'].state-on_call").wait_for()
    await page.locator("#cw-team li[data-extension='100'].state-ringing").wait_for()
    assert await page.locator("#cw-team li[data-extension='101']").count() == 0  # not oneself
    await screenshot(page, "widget-team")

    await page.click("[role=tab][data-tab=dialer]")
    await page.locator("#cw-dialer-empty").wait_for()  # no list yet, said honestly

    # One click on a colleague calls them (no PBX link here: the failure says so).
    await page.click("[role=tab][data-tab=team]")
    await page.click("#cw-team li[data-extension='102'] [data-phone]")
    await page.locator("#cw-progress[data-stage=failed]").wait_for()
    assert await page.input_value("#cw-number") == "102"


async def test_webrtc_mode_loads_the_sip_library_and_registers_over_websocket(
    panel, contexts, world
):
    """The in-browser phone sends a real SIP REGISTER for the agent's extension."""
    from models.core.secret_box import secret_box_for
    from models.people.profile import set_sip_password
    from tests.web.sip_registrar import SipRegistrar

    # The SIP password comes from the profile (stored encrypted), not typed into the widget.
    box = secret_box_for("", panel.settings.data_dir)
    await set_sip_password(world.luis, "sip-secret-101", box)
    async with SipRegistrar() as registrar:
        await TelephonySettings.filter().update(widget_mode="webrtc", webrtc_ws_url=registrar.url)
        page = await log_in(await contexts(), panel, "luis", world.password)
        await page.click(".cw-toggle")
        await page.locator("#call-widget[data-webrtc='Registered']").wait_for()
        assert "Web phone ready" in await page.locator("#cw-webrtc-state").inner_text()
        register = registrar.requests[-1]
        assert register.startswith("REGISTER sip:")
        assert "sip:101@127.0.0.1" in register
        assert 'username="101"' in register  # answered the digest challenge as extension 101


async def test_with_an_sms_gateway_the_sms_button_opens_the_form(panel, contexts, world):
    panel.settings.sms.driver = "http"
    page = await log_in(await contexts(), panel, "luis", world.password)
    await page.click(".cw-toggle")
    sms = page.locator("#cw-sms")
    await page.wait_for_function("() => !document.getElementById('cw-sms').disabled")
    assert await sms.get_attribute("title") is None
    await page.fill("#cw-number", "+34600111222")
    await sms.click()
    await page.wait_for_url("**/sms/new?to=%2B34600111222")
