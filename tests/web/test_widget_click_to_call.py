"""Click-to-call (L5) and transfer (L4) from the widget, through the real AMI link to the PBX
simulator over TCP: the progress the browser shows is what the PBX did.
"""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

import pytest

from daemon.ami.commands import TelephonyCommands
from daemon.ami.link import AmiLink
from daemon.pbxsim import PbxSimulator
from models.contacts.clients import ClientInput, create_client
from models.core.events import CallAnswered, CallRang, CallTransferred
from models.core.settings import AmiSettings
from models.schema.users import User
from models.telephony.caller_directory import caller_card
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    eventually,
    log_in,
    panel,
    screenshot,
)


@pytest.fixture
async def pbx(panel):
    """The simulator, and the real link + telephony commands serving the panel's hub."""
    sim = PbxSimulator(speed=50.0)
    sim.events_sent = []  # type: ignore[attr-defined]
    sim.sent_hook = lambda fields: sim.events_sent.append(dict(fields))  # type: ignore[attr-defined]
    await sim.start()
    settings = AmiSettings(
        host="127.0.0.1",
        port=sim.port,
        username=sim.username,
        secret=sim.secret,
        action_timeout=3.0,
    )
    commands = TelephonyCommands(None, panel.hub, settings)  # type: ignore[arg-type]
    link = AmiLink(settings, commands.on_event, commands.on_resync)
    commands.link = link
    commands.register(panel.hub)
    await link.start()
    await link.wait_ready(10)
    yield sim
    await link.stop()
    await sim.close()


async def test_click_on_a_number_shows_the_progress_of_the_call(panel, pbx, contexts, world):
    pbx.script_number("+34911234567", "answer", ring=2.0, talk=60.0)
    page = await log_in(await contexts(), panel, "luis", world.password)
    # Any number on any page is click-to-call: here a tel: link added to the page.
    await page.evaluate(
        """() => { const a = document.createElement('a'); a.href = 'tel:+34911234567';
                   a.id = 'some-number'; a.textContent = '911 23 45 67';
                   document.querySelector('main').append(a); }"""
    )
    await page.click("#some-number")
    await page.locator("#cw-progress[data-stage=connected]").wait_for(timeout=15000)
    await screenshot(page, "click-to-call-connected")
    originate = pbx.received("Originate")[0]
    assert originate["Channel"] == "PJSIP/101"  # the agent's phone rings first
    assert originate["Exten"] == "+34911234567"


async def test_a_busy_number_shows_the_reason_and_no_link_says_so(panel, pbx, contexts, world):
    pbx.script_number("+34600111222", "busy")
    page = await log_in(await contexts(), panel, "luis", world.password)
    await page.click(".cw-toggle")
    await page.fill("#cw-number", "600 111 222")
    await page.click("#cw-call")
    await page.locator("#cw-progress[data-stage=failed]").wait_for(timeout=15000)
    assert "busy" in await page.locator("#cw-progress").inner_text()

    await page.fill("#cw-number", "12")
    await page.click("#cw-call")
    await page.locator("#cw-progress[data-stage=failed]:has-text('not a phone number')").wait_for()


async def test_without_a_pbx_link_the_call_fails_with_the_reason(panel, contexts, world):
    page = await log_in(await contexts(), panel, "luis", world.password)
    await page.click(".cw-toggle")
    await page.fill("#cw-number", "+34 911 234 567")
    await page.click("#cw-call")
    await page.locator("#cw-progress[data-stage=failed]").wait_for()
    assert "PBX link" in await page.locator("#cw-progress").inner_text()


async def test_transfer_moves_the_pop_up_to_the_colleague(panel, pbx, contexts, world):
    await create_client(world.luis, ClientInput(name="Talleres Norte", phones=["+34911000111"]))
    luis = await log_in(await contexts(), panel, "luis", world.password)
    marta = await log_in(await contexts(), panel, "marta", world.password)
    call = await pbx.inbound_call(
        "+34911000111", "900100200", ["101"], answer_by="101", answer_after=0.5, talk=3000.0
    )
    # What the tracker publishes for this call (it is not wired to the hub yet).
    card = await caller_card("+34911000111")
    panel.hub.publish(CallRang(call.linkedid, "in", "101", world.luis.id, card))
    panel.hub.publish(CallAnswered(call.linkedid, "101", world.luis.id))
    pop = luis.locator(f'.cw-popup[data-linkedid="{call.linkedid}"]')
    await pop.and_(luis.locator("[data-state=answered]")).wait_for()
    # A transfer needs the call bridged: wait until the simulator has bridged both legs.
    await eventually(lambda: sum(e.get("Event") == "BridgeEnter" for e in pbx.events_sent) >= 2)

    await pop.locator(".cw-pop-transfer-to").select_option("102")
    await pop.locator(".cw-pop-transfer").click()
    await eventually(lambda: bool(pbx.received("Redirect")))
    redirect = pbx.received("Redirect")[0]
    assert redirect["Exten"] == "102"
    panel.hub.publish(CallTransferred(call.linkedid, "101", "102"))
    await pop.and_(luis.locator("[data-state=transferred]")).wait_for()
    moved = marta.locator(f'.cw-popup[data-linkedid="{call.linkedid}"]')
    await moved.wait_for()
    assert await moved.locator(".cw-pop-name").inner_text() == "Talleres Norte"
    await screenshot(marta, "transfer-received")


async def test_a_spanish_agent_reads_the_pbx_reason_in_spanish(panel, pbx, contexts, world):
    """The reason comes later, from the PBX's events, through the hub: said in the language of
    the agent whose call it was, not in the daemon's English."""
    await User.filter(id=world.luis.id).update(language="es")  # the panel fixture made it "en"
    pbx.script_number("+34600111333", "busy")
    page = await log_in(await contexts(), panel, "luis", world.password)
    await page.click(".cw-toggle")
    await page.fill("#cw-number", "600 111 333")
    await page.click("#cw-call")
    await page.locator("#cw-progress[data-stage=failed]").wait_for(timeout=15000)
    shown = await page.locator("#cw-progress").inner_text()
    assert "el número está ocupado" in shown and "busy" not in shown
