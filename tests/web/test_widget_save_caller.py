"""Saving an unknown caller during the call (L3): linked at once, the auto-lead reused."""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

from datetime import timedelta

from models.core.events import CallAnswered, CallRang
from models.schema.activity import Note, TimelineEntry
from models.schema.calls import Call
from models.schema.clients import Client
from models.schema.leads import Lead
from models.telephony.call_record import CallRecord
from models.telephony.caller_directory import caller_card, record_call
from models.telephony.live_board import save_caller
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    eventually,
    log_in,
    panel,
    screenshot,
)

CALLER = "+34 622 333 444"


def _record(clock, linkedid: str, result: str = "answered") -> CallRecord:
    start = clock.now()
    return CallRecord(
        linkedid=linkedid,
        direction="in",
        from_number=CALLER,
        to_number="900100200",
        did="900100200",
        started_at=start,
        result=result,
        agent_extension="101",
        answered_at=start + timedelta(seconds=3),
        ended_at=start + timedelta(seconds=60),
        wait_seconds=3,
        talk_seconds=57,
    )


async def test_unknown_caller_saved_as_lead_during_the_call_reuses_the_auto_lead(
    panel, contexts, world, clock
):
    page = await log_in(await contexts(), panel, "luis", world.password)
    # The PBX link stored the call early and made an auto-lead for the unknown number.
    stored = await record_call(_record(clock, "in-1"), clock=clock)
    assert stored.lead_created is not None
    panel.hub.publish(CallRang("in-1", "in", "101", world.luis.id, await caller_card(CALLER)))
    panel.hub.publish(CallAnswered("in-1", "101", world.luis.id))
    pop = page.locator('.cw-popup[data-linkedid="in-1"]')
    await pop.and_(page.locator("[data-state=answered]")).wait_for()

    await pop.locator(".cw-pop-save input[name=name]").fill("Pedro Ruiz")
    await pop.locator(".cw-pop-save input[name=company]").fill("Ruiz e Hijos")
    await pop.locator(".cw-pop-save button[type=submit]").click()
    await pop.locator(".cw-pop-name:text('Pedro Ruiz')").wait_for()
    await screenshot(page, "caller-saved-as-lead")

    leads = await Lead.all()
    assert len(leads) == 1  # the auto-lead, named and taken: no duplicate
    assert leads[0].id == stored.lead_created.id
    assert (leads[0].name, leads[0].company_name) == ("Pedro Ruiz", "Ruiz e Hijos")
    assert leads[0].responsible_id == world.luis.id
    call = await Call.get(linkedid="in-1")
    assert call.lead_id == leads[0].id

    # The note typed during the call lands on the lead's timeline.
    await pop.locator(".cw-pop-note textarea").fill("Wants a quote for 20 units")
    await pop.locator(".cw-pop-note button").click()
    await pop.locator(".cw-pop-msg:text('Note added to the timeline')").wait_for()
    note = await Note.get(text="Wants a quote for 20 units")
    assert (note.lead_id, note.call_id) == (leads[0].id, call.id)
    assert await TimelineEntry.filter(kind="note", lead_id=leads[0].id).count() == 1

    # The tracker's final word on the call does not make another lead.
    await record_call(_record(clock, "in-1"), clock=clock)
    assert await Lead.all().count() == 1


async def test_saved_before_the_call_is_stored_the_recorded_call_is_theirs(world, clock):
    saved = await save_caller(
        world.luis, linkedid="in-2", number=CALLER, kind="lead", name="Lucía", clock=clock
    )
    assert saved.call_id is None and not saved.reused
    recorded = await record_call(_record(clock, "in-2"), clock=clock)
    assert recorded.lead_created is None
    assert recorded.call.lead_id == saved.lead_id  # matched by the number, at once
    assert await Lead.all().count() == 1


async def test_saved_as_client_the_auto_lead_is_converted_not_duplicated(world, clock):
    stored = await record_call(_record(clock, "in-3", result="missed"), clock=clock)
    auto = stored.lead_created
    assert auto is not None and auto.responsible_id is None  # unhandled auto-lead
    saved = await save_caller(
        world.marta, linkedid="in-3", number=CALLER, kind="client", name="Óptica Luz", clock=clock
    )
    assert saved.reused and saved.lead_id == auto.id
    client = await Client.get(id=saved.client_id)
    assert client.name == "Óptica Luz" and client.responsible_id == world.marta.id
    assert (await Lead.get(id=auto.id)).status == "converted"
    assert (await Call.get(linkedid="in-3")).client_id == client.id
    assert await Client.all().count() == 1 and await Lead.all().count() == 1
