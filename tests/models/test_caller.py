from dataclasses import replace

from models.contacts import clients as client_ops
from models.contacts.clients import ClientInput
from models.contacts.notes import add_note
from models.contacts.timeline import client_timeline, lead_timeline
from models.people.users import get_telephony
from models.sales.deals import create_deal
from models.schema.calls import Call
from models.schema.leads import Lead
from models.telephony.call_record import CallRecord
from models.telephony.caller_directory import CallerDirectory
from tests.call_records import T0, inbound


async def test_find_by_phone_any_format(world, clock):
    client = await client_ops.create_client(
        world.luis, ClientInput(name="Pedro Ruiz", phones=["911234567"]), clock=clock
    )
    directory = await CallerDirectory.load()
    for number in ("911234567", "+34911234567", "0034 911 23 45 67"):
        found, lead = await directory.find_by_phone(number)
        assert found is not None and found.id == client.id and lead is None
    assert await directory.find_by_phone("600000000") == (None, None)


async def test_caller_card_shows_deals_note_and_last_call(world, clock):
    client = await client_ops.create_client(
        world.luis,
        ClientInput(name="Pedro Ruiz", phones=["911234567"], company_name="Ruiz SL"),
        clock=clock,
    )
    await create_deal(world.luis, client.id, "Centralita 10 puestos", "1200.50", "EUR", clock=clock)
    directory = await CallerDirectory.load()
    await directory.record_call(inbound("1.1", "911234567"), clock=clock)
    await add_note(world.luis, "Wants a demo on Friday", client_id=client.id, clock=clock)
    card = await directory.caller_card("+34 911 23 45 67")
    assert card.is_known and card.client_id == client.id
    assert (card.name, card.company) == ("Pedro Ruiz", "Ruiz SL")
    assert card.open_deals[0]["title"] == "Centralita 10 puestos"
    assert card.open_deals[0]["amount"] == "1200.50"
    assert card.last_note == "Wants a demo on Friday"
    assert card.last_call_result == "answered" and card.last_call_at == T0
    unknown = await directory.caller_card("600000001")
    assert not unknown.is_known and unknown.e164 == "+34600000001"


async def test_record_call_matches_client_and_adds_timeline(world, clock):
    client = await client_ops.create_client(
        world.luis, ClientInput(name="Pedro Ruiz", phones=["911234567"]), clock=clock
    )
    directory = await CallerDirectory.load()
    result = await directory.record_call(inbound("1.1", "+34911234567"), clock=clock)
    assert result.created and result.lead_created is None
    assert result.call.client_id == client.id and result.call.agent_id == world.luis.id
    kinds = [e.kind for e in await client_timeline(world.luis, client.id)]
    assert kinds.count("call") == 1


async def test_unknown_caller_makes_exactly_one_lead(world, clock):
    directory = await CallerDirectory.load()
    first = await directory.record_call(inbound("1.1", "600123456", result="missed"), clock=clock)
    assert first.lead_created is not None
    lead = first.lead_created
    assert lead.source == "call" and lead.responsible_id is None  # nobody answered: unhandled
    assert lead.source_tag_id == world.did_tag.id  # DID 900100200 is "Google Ads"
    # The tracker records the same call again (resync): an update, no new call, no new lead.
    again = await directory.record_call(
        replace(inbound("1.1", "600123456", result="missed"), wait_seconds=20), clock=clock
    )
    assert not again.created and again.lead_created is None
    assert again.call.id == first.call.id and again.call.wait_seconds == 20
    # A second call from the same number finds the lead.
    second = await directory.record_call(inbound("1.2", "+34 600 12 34 56"), clock=clock)
    assert second.lead_created is None and second.call.lead_id == lead.id
    assert await Lead.all().count() == 1
    assert await Call.all().count() == 2
    entries = await lead_timeline(world.ana, lead.id)
    assert [e.kind for e in entries].count("call") == 2


async def test_answered_unknown_call_lead_goes_to_the_agent(world, clock):
    directory = await CallerDirectory.load()
    result = await directory.record_call(inbound("2.1", "600999888", ext="102"), clock=clock)
    assert result.lead_created.responsible_id == world.marta.id


async def test_autolead_off_leaves_unknown_calls_alone(world, clock):
    telephony = await get_telephony()
    telephony.is_autolead_inbound = False
    await telephony.save()
    directory = await CallerDirectory.load()
    result = await directory.record_call(inbound("3.1", "600999777"), clock=clock)
    assert result.lead_created is None and result.call.lead_id is None
    outbound = CallRecord(
        linkedid="3.2",
        direction="out",
        from_number="101",
        to_number="600999777",
        started_at=T0,
        result="no_answer",
        agent_extension="101",
    )
    result = await directory.record_call(outbound, clock=clock)
    assert result.lead_created is not None and result.lead_created.responsible_id == world.luis.id
    assert result.lead_created.source_tag_id is None


async def test_sms_from_unknown_number_makes_one_lead_when_enabled(world, clock):
    directory = await CallerDirectory.load()
    client, lead, created = await directory.contact_for_sms("600555444", clock=clock)
    assert client is None and created and lead.source == "sms" and lead.responsible_id is None
    _, again, created = await directory.contact_for_sms("+34600555444", clock=clock)
    assert not created and again.id == lead.id
    # A later call from the same number finds that lead rather than making another.
    result = await directory.record_call(inbound("5.1", "600555444"), clock=clock)
    assert result.lead_created is None and result.call.lead_id == lead.id
    telephony = await get_telephony()
    telephony.is_autolead_sms = False
    await telephony.save()
    assert await directory.contact_for_sms("600555333", clock=clock) == (None, None, False)


async def test_concurrent_calls_from_one_new_number_make_one_lead(world, clock):
    import asyncio

    directory = await CallerDirectory.load()
    results = await asyncio.gather(
        *(
            directory.record_call(inbound(f"7.{i}", "600777888", result="missed"), clock=clock)
            for i in range(4)
        )
    )
    assert sum(1 for r in results if r.lead_created) == 1
    assert len({r.call.lead_id for r in results}) == 1
    assert await Lead.all().count() == 1


async def test_unreadable_number_is_matched_by_its_digits(world, clock):
    directory = await CallerDirectory.load()
    first = await directory.record_call(inbound("8.1", "12"), clock=clock)
    assert first.call.peer_e164 is None and first.lead_created is not None
    assert first.lead_created.name == "12"
    again = await directory.record_call(inbound("8.2", "12"), clock=clock)
    assert again.lead_created is None and again.call.lead_id == first.lead_created.id
    hidden = await directory.record_call(inbound("8.3", "anonymous"), clock=clock)
    assert hidden.lead_created is None and hidden.call.lead_id is None  # no digits: never a lead
