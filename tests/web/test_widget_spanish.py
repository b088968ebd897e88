"""The call widget in Chromium for a Spanish user: its states, call results and dialer statuses
read in Spanish (the texts come from the catalog through the page, none from widget.js)."""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

from datetime import timedelta

from models.contacts.clients import ClientInput, create_client
from models.core.events import CallRang
from models.schema.calls import Call
from models.schema.users import User
from models.telephony import dialer as dialer_ops
from models.telephony.caller_directory import caller_card
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    log_in,
    panel,
    screenshot,
)


async def test_the_widget_speaks_spanish_to_a_spanish_agent(panel, contexts, world, clock):
    await User.filter(id=world.luis.id).update(language="es")  # the panel fixture made it "en"
    client = await create_client(
        world.luis, ClientInput(name="Bodegas Rioja", phones=["+34941222333"])
    )
    await Call.create(
        linkedid="h-1",
        direction="out",
        from_number="101",
        to_number="+34941222333",
        result="no_answer",
        started_at=clock.now() - timedelta(minutes=5),
        agent_id=world.luis.id,
        agent_extension="101",
        client_id=client.id,
    )
    dialer = await dialer_ops.create_list(
        world.luis, "Lunes", clock=clock, numbers=["+34911000001"]
    )
    await dialer_ops.start_list(world.luis, dialer.id, clock=clock)

    page = await log_in(await contexts(), panel, "luis", world.password)
    await page.click(".cw-toggle")
    # No PBX link in this panel: the widget says so, in Spanish.
    assert await page.locator("#cw-status").inner_text() == (
        "La conexión con la centralita no está activa."
    )

    await page.click("[role=tab][data-tab=history]")
    item = page.locator("#cw-history li").first
    await item.wait_for()
    assert "no contestada" in await item.inner_text()
    assert "no_answer" not in await item.inner_text()

    await page.click("[role=tab][data-tab=dialer]")
    await page.locator(".cw-dialer-status", has_text="en marcha").wait_for()
    await page.click("[data-dialer-action=pause]")
    await page.locator(".cw-dialer-status", has_text="en pausa").wait_for()

    panel.hub.publish(
        CallRang("r-1", "in", "101", world.luis.id, await caller_card("+34941222333"))
    )
    await panel.hub.drain()
    popup = page.locator(".cw-popup[data-linkedid='r-1']")
    await popup.locator(".cw-pop-state", has_text="sonando").wait_for()
    await screenshot(page, "widget-spanish")

    await page.fill("#cw-number", "+34 911 234 567")
    await page.click("#cw-call")
    await page.locator("#cw-progress[data-stage=failed]").wait_for()
    assert (await page.locator("#cw-progress").inner_text()).startswith("La llamada ha fallado")
