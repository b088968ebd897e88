"""The calls service with a real database: recorded traces in, Call rows and hub events out."""

from __future__ import annotations

import asyncio
import logging

from daemon.ami.calls_service import CallsService
from daemon.ami.link import AmiLink
from daemon.ami.traces import load_events, load_messages
from models.core.events import (
    CallAnswered,
    CallEnded,
    CallMissed,
    CallRang,
    CallStoppedRinging,
    CallTransferred,
    LeadCreated,
)
from models.core.settings import AmiSettings
from models.schema.calls import Call
from models.schema.leads import Lead
from models.telephony.caller_directory import CallerDirectory
from tests.daemon.pbxsim_fixtures import ami_settings, sim  # noqa: F401
from tests.daemon.test_tracker_corpora import AMI_DIR, ami_tracker


async def _service(hub, clock, directory=None) -> tuple[CallsService, list]:
    received: list = []

    async def collect(event) -> None:
        received.append(event)

    hub.subscribe("test-calls", collect)
    service = CallsService(hub, clock, directory or await CallerDirectory.load(), ami_tracker())
    service.start()
    return service, received


async def _replay(service: CallsService, name: str) -> None:
    for event in load_events(AMI_DIR / name):
        await service.on_event(event)
    await service.drain()


async def test_an_inbound_call_is_stored_once_with_its_auto_lead_and_published(world, hub, clock):
    service, received = await _service(hub, clock)
    try:
        await _replay(service, "inbound_unknown_answered.ami")
        await hub.drain()
        calls = await Call.all()
        assert len(calls) == 1
        call = calls[0]
        assert (call.direction, call.from_number, call.did) == ("in", "+34600111222", "900100200")
        assert call.result == "answered"
        assert call.agent_id == world.luis.id
        assert abs(call.talk_seconds - 10) <= 1 and abs(call.wait_seconds - 2) <= 1
        assert call.hangup_cause == 16
        # The unknown number became one lead, tagged by the DID and owned by who answered.
        lead = await Lead.get(id=call.lead_id)
        assert lead.responsible_id == world.luis.id
        assert lead.source_tag_id == world.did_tag.id

        kinds = [type(e) for e in received]
        assert kinds.index(CallRang) < kinds.index(CallAnswered) < kinds.index(CallEnded)
        rang = next(e for e in received if isinstance(e, CallRang))
        assert (rang.extension, rang.user_id, rang.direction) == ("101", world.luis.id, "in")
        assert rang.card.number == "+34600111222" and not rang.card.is_known
        assert rang.did == "900100200"
        ended = next(e for e in received if isinstance(e, CallEnded))
        assert (ended.call_id, ended.result, ended.user_id) == (call.id, "answered", world.luis.id)
        assert [e.lead_id for e in received if isinstance(e, LeadCreated)] == [lead.id]
        assert not [e for e in received if isinstance(e, CallMissed)]

        # The same call heard again (a replay, a second daemon): still one call, one lead.
        service.tracker = ami_tracker()
        await _replay(service, "inbound_unknown_answered.ami")
        assert await Call.all().count() == 1
        assert await Lead.all().count() == 1
    finally:
        await service.stop()


async def test_a_missed_call_reaches_the_agent_it_rang_with_the_callers_card(world, hub, clock):
    service, received = await _service(hub, clock)
    try:
        await _replay(service, "inbound_missed.ami")
        await hub.drain()
        call = await Call.get()
        assert (call.result, call.agent_id) == ("missed", None)
        lead = await Lead.get(id=call.lead_id)
        assert lead.responsible_id is None  # nobody answered: unhandled
        missed = [e for e in received if isinstance(e, CallMissed)]
        assert [(m.extension, m.user_id) for m in missed] == [("102", world.marta.id)]
        assert missed[0].card.lead_id == lead.id
        stopped = [e for e in received if isinstance(e, CallStoppedRinging)]
        assert [(s.extension, s.answered_by) for s in stopped] == [("102", "")]
    finally:
        await service.stop()


async def test_click_to_call_and_transfer_events(world, hub, clock):
    service, received = await _service(hub, clock)
    try:
        await _replay(service, "transfer_blind.ami")
        await hub.drain()
        call = await Call.get()
        assert (call.direction, call.to_number, call.action_id) == (
            "out",
            "+34911234565",
            "xfer-blind",
        )
        assert call.transfers == [{"from": "101", "to": "104", "kind": "blind"}]
        rangs = [(e.extension, e.user_id, e.action_id) for e in received if isinstance(e, CallRang)]
        # 104 has no user in this world: the pop-up is published without one.
        assert rangs == [("101", world.luis.id, "xfer-blind"), ("104", None, "xfer-blind")]
        transfers = [e for e in received if isinstance(e, CallTransferred)]
        assert [(t.from_extension, t.to_extension) for t in transfers] == [("101", "104")]
        # The outbound number became a lead owned by the agent who dialled it.
        assert (await Lead.get(id=call.lead_id)).responsible_id == world.luis.id
    finally:
        await service.stop()


async def test_a_call_that_ended_while_the_link_was_down_is_recorded_once(world, hub, clock):
    service, received = await _service(hub, clock)
    try:
        listing = [
            m
            for m in load_messages(AMI_DIR / "show_channels.ami")
            if m.get("Event") == "CoreShowChannel"
        ]
        await service.on_resync(listing)  # reconnected mid-call: adopt it
        await service.drain()
        assert await Call.all().count() == 0
        await service.on_resync([])  # reconnected again: it is over
        await service.on_resync([])
        await service.drain()
        call = await Call.get()
        assert (call.direction, call.to_number, call.result) == ("out", "+34911234565", "answered")
        assert call.agent_id == world.luis.id
        await hub.drain()
        assert len([e for e in received if isinstance(e, CallEnded)]) == 1
    finally:
        await service.stop()


class _FailingOnce(CallerDirectory):
    """A directory whose store fails once (a bug, not an outage: see test_database_busy)
    and then works."""

    def __init__(self, region: str) -> None:
        super().__init__(region)
        self.failed = False

    async def record_calls(self, records, *, clock=None):
        if not self.failed:
            self.failed = True
            raise RuntimeError("a bug in the store")
        return await super().record_calls(records, clock=clock)


async def test_a_failure_is_logged_with_the_linkedid_and_the_next_call_is_stored(
    world, hub, clock, caplog
):
    service, _ = await _service(hub, clock, _FailingOnce("ES"))
    try:
        with caplog.at_level(logging.ERROR, logger="daemon.ami.calls_service"):
            await _replay(service, "inbound_missed.ami")
        assert any("1795913642.30" in r.getMessage() for r in caplog.records)
        assert service.failures == 1
        await service.on_event({"Event": "Hangup", "Uniqueid": None})  # garbage: skipped
        await _replay(service, "inbound_unknown_answered.ami")
        assert [c.result for c in await Call.all()] == ["answered"]
    finally:
        await service.stop()


async def test_the_tracker_knows_the_extensions_of_active_users(world, hub, clock):
    directory = await CallerDirectory.load()
    service = CallsService.for_pbx(hub, clock, directory, AmiSettings())
    known = service.tracker.roles.agent_extensions
    assert known is not None
    assert known() is None  # not loaded yet: any all-digit extension
    await directory.extensions.load()
    assert known() == {"100", "101", "102"}


async def test_a_simulated_pbx_call_over_tcp_is_stored_like_a_real_one(world, hub, clock, sim):  # noqa: F811
    """Inbound call from +34 91 123 45 67 to DID 900100200, agent 101 answers after 2 s,
    talks 30 s": simulator -> TCP -> AMI link -> tracker -> database and hub."""
    received: list = []

    async def collect(event) -> None:
        received.append(event)

    hub.subscribe("test-sim", collect)
    directory = await CallerDirectory.load()
    service = CallsService.for_pbx(hub, clock, directory, ami_settings(sim))
    await directory.extensions.load()
    service.start()
    link = AmiLink(ami_settings(sim), service.on_event, service.on_resync)
    await link.start()
    try:
        await link.wait_ready(10)
        sim_call = await sim.inbound_call(
            "+34911234567", "900100200", ["101"], answer_by="101", answer_after=2, talk=30
        )
        await sim_call.done()
        for _ in range(500):
            await service.drain()
            if await Call.all().count():
                break
            await asyncio.sleep(0.01)
        call = await Call.get()
        assert (call.direction, call.from_number, call.result) == ("in", "+34911234567", "answered")
        assert call.agent_id == world.luis.id
        assert abs(call.wait_seconds - 2) <= 1 and abs(call.talk_seconds - 30) <= 1
        assert (await Lead.get(id=call.lead_id)).source_tag_id == world.did_tag.id
        await hub.drain()
        rang = [e for e in received if isinstance(e, CallRang)]
        assert [(e.extension, e.user_id, e.card.number) for e in rang] == [
            ("101", world.luis.id, "+34911234567")
        ]
    finally:
        await link.stop()
        await service.stop()
