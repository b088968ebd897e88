"""Live pop-ups (L3) in headless Chromium: the right user's tabs, following the call.

The tracker that turns AMI events into call events is another engineer's and not wired yet, so
these tests publish on the hub exactly the events it publishes (models.core.events), with the caller
card computed by the real `caller_card`.
"""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

from models.contacts.clients import ClientInput, create_client
from models.core.events import (
    CallAnswered,
    CallEnded,
    CallMissed,
    CallRang,
    CallStoppedRinging,
    UsersChanged,
)
from models.schema.company import TelephonySettings
from models.schema.users import User
from models.telephony.caller_directory import caller_card
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    eventually,
    log_in,
    open_tab,
    panel,
    screenshot,
)

NUMBER = "+34 911 234 567"


async def _ring(panel, linkedid: str, user: User, number: str = NUMBER, direction: str = "in"):
    card = await caller_card(number)
    panel.hub.publish(
        CallRang(linkedid, direction, user.extension, user.id, card, did="+34900100200")
    )


async def test_inbound_call_pops_up_on_every_tab_of_the_right_user_only(panel, contexts, world):
    await create_client(
        world.luis, ClientInput(name="Ferretería Sol", phones=[NUMBER], company_name="Sol SL")
    )
    luis = await contexts()
    luis_first = await log_in(luis, panel, "luis", world.password)
    luis_second = await open_tab(luis, panel, "/clients")
    marta = await log_in(await contexts(), panel, "marta", world.password)
    await eventually(lambda: panel.sockets_of(world.luis.id) == 2)

    await _ring(panel, "call-1", world.luis)
    for page in (luis_first, luis_second):
        pop = page.locator('.cw-popup[data-linkedid="call-1"]')
        await pop.wait_for()
        assert await pop.locator(".cw-pop-name").inner_text() == "Ferretería Sol"
        assert await pop.get_attribute("data-state") == "ringing"
        assert not await pop.locator(".cw-pop-save").is_visible()  # a known caller

    # Marta's own call shows on her page; luis's never did (events arrive in order).
    await _ring(panel, "call-2", world.marta, "+34 600 000 111")
    await marta.locator('.cw-popup[data-linkedid="call-2"]').wait_for()
    assert await marta.locator('.cw-popup[data-linkedid="call-1"]').count() == 0
    assert await luis_first.locator('.cw-popup[data-linkedid="call-2"]').count() == 0

    panel.hub.publish(CallAnswered("call-1", "101", world.luis.id))
    pop = luis_second.locator('.cw-popup[data-linkedid="call-1"]')
    await pop.and_(luis_second.locator("[data-state=answered]")).wait_for()
    await screenshot(luis_second, "popup-answered")
    panel.hub.publish(
        CallEnded("call-1", 7, "101", world.luis.id, "answered", talk_seconds=95, wait_seconds=4)
    )
    await pop.and_(luis_second.locator("[data-state=ended]")).wait_for()
    assert "1:35" in await pop.locator(".cw-pop-state").inner_text()


async def test_a_colleague_answering_closes_the_others_pop_up_and_a_missed_call_stays(
    panel, contexts, world
):
    luis = await log_in(await contexts(), panel, "luis", world.password)
    marta = await log_in(await contexts(), panel, "marta", world.password)
    await _ring(panel, "group-1", world.luis)
    await _ring(panel, "group-1", world.marta)
    await luis.locator('.cw-popup[data-linkedid="group-1"]').wait_for()
    await marta.locator('.cw-popup[data-linkedid="group-1"]').wait_for()
    # Unknown caller: the pop-up offers to save it.
    assert await luis.locator('.cw-popup[data-linkedid="group-1"] .cw-pop-save').is_visible()

    panel.hub.publish(CallAnswered("group-1", "102", world.marta.id))
    panel.hub.publish(CallStoppedRinging("group-1", "101", world.luis.id, answered_by="102"))
    await luis.locator('.cw-popup[data-linkedid="group-1"][data-state=stopped]').wait_for()
    await marta.locator('.cw-popup[data-linkedid="group-1"][data-state=answered]').wait_for()

    await _ring(panel, "lost-1", world.luis, "+34 600 999 888")
    await luis.locator('.cw-popup[data-linkedid="lost-1"][data-state=ringing]').wait_for()
    card = await caller_card("+34 600 999 888")
    panel.hub.publish(CallMissed("lost-1", 9, "101", world.luis.id, card))
    await luis.locator('.cw-popup[data-linkedid="lost-1"][data-state=missed]').wait_for()


async def test_outside_working_hours_inbound_pop_ups_stay_quiet(panel, contexts, world):
    await TelephonySettings.filter().update(widget_mode="working_hours")
    # The clock says Wednesday 11:00 in Madrid: luis works mornings, marta only on weekends.
    await User.filter(id=world.luis.id).update(
        work_schedule={"kind": "weekly", "days": {"2": [["09:00", "14:00"]]}}
    )
    await User.filter(id=world.marta.id).update(
        work_schedule={"kind": "weekly", "days": {"5": [["09:00", "14:00"]]}}
    )
    panel.relay.forget_caches()  # the widget mode
    panel.hub.publish(UsersChanged())  # the schedules: what the team pages publish
    await panel.hub.drain()
    luis = await log_in(await contexts(), panel, "luis", world.password)
    marta = await log_in(await contexts(), panel, "marta", world.password)
    assert "working hours" in await marta.locator("#cw-status").inner_text()

    await _ring(panel, "quiet-1", world.marta)
    await _ring(panel, "heard-1", world.luis)
    await luis.locator('.cw-popup[data-linkedid="heard-1"]').wait_for()
    # Marta's socket got nothing: the relay skipped her (the queue is drained in order).
    await panel.hub.drain()
    assert await marta.locator(".cw-popup").count() == 0

    # And her click-to-call is refused with a clear message.
    await marta.click(".cw-toggle")
    await marta.fill("#cw-number", "+34 600 000 222")
    await marta.click("#cw-call")
    await marta.locator("#cw-progress[data-stage=failed]").wait_for()
    assert "working hours" in await marta.locator("#cw-progress").inner_text()
