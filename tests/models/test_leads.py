import pytest

from models.contacts.clients import ClientInput, create_client, get_client
from models.contacts.notes import add_note
from models.contacts.timeline import client_timeline
from models.core.errors import Conflict, NotFound, ValidationFailed
from models.sales import leads as lead_ops
from models.sales.deals import DealInput, list_deals
from models.sales.leads import LeadInput
from models.schema.calls import Call
from models.schema.leads import Lead
from models.telephony.call_record import CallRecord
from models.telephony.caller_directory import CallerDirectory
from models.work.tasks import TaskInput, create_task


async def test_manual_lead_belongs_to_its_creator(world, clock):
    lead = await lead_ops.create_lead(
        world.luis, LeadInput(name="Sara", phones=["600111222"]), clock=clock
    )
    assert lead.responsible_id == world.luis.id and lead.source == "manual"
    mine, total = await lead_ops.list_leads(world.luis, view="mine")
    assert [r.id for r in mine] == [lead.id] and total == 1
    assert (await lead_ops.list_leads(world.luis, view="unhandled"))[1] == 0
    with pytest.raises(NotFound, match=f"^lead {lead.id} not found$"):  # as if there were none
        await lead_ops.get_lead(world.marta, lead.id)


async def test_lead_needs_a_name_or_a_contact(world, clock):
    with pytest.raises(ValidationFailed) as err:
        await lead_ops.create_lead(world.luis, LeadInput(), clock=clock)
    assert "name" in err.value.fields
    lead = await lead_ops.create_lead(world.luis, LeadInput(phones=["600 11 12 13"]), clock=clock)
    assert lead.name == "600 11 12 13"


async def test_unhandled_lead_is_claimed_once(world, clock):
    lead = await lead_ops.create_lead(
        world.luis, LeadInput(name="Web visitor"), unhandled=True, clock=clock
    )
    assert lead.responsible_id is None
    unhandled, _ = await lead_ops.list_leads(world.marta, view="unhandled")
    assert [r.id for r in unhandled] == [lead.id]
    claimed = await lead_ops.claim_lead(world.marta, lead.id)
    assert claimed.responsible_id == world.marta.id
    with pytest.raises(Conflict) as err:
        await lead_ops.claim_lead(world.luis, lead.id)
    # Luis may not see Marta's lead now: he is told it is taken, not by whom.
    assert str(err.value) == "this lead was already taken by another user"
    with pytest.raises(Conflict) as err:
        await lead_ops.claim_lead(world.ana, lead.id)  # an admin sees every lead
    assert "Marta" in str(err.value)


async def test_lead_search_by_phone_tail_and_name(world, clock):
    lead = await lead_ops.create_lead(
        world.luis,
        LeadInput(name="Sara Gómez", phones=["600111222"], emails=["sara@gomez.es"]),
        clock=clock,
    )
    await create_client(
        world.luis, ClientInput(name="Other", emails=["sara@gomez.es"]), clock=clock
    )
    for query in ("1222", "+34 600 111 222", "gomez", "Sara", "SARA@gomez.es"):
        rows, _ = await lead_ops.list_leads(world.luis, view="mine", query=query)
        assert [r.id for r in rows] == [lead.id], query


async def test_convert_keeps_notes_calls_tasks_and_timeline(world, clock):
    directory = await CallerDirectory.load()
    rec = CallRecord(
        linkedid="9.1",
        direction="in",
        from_number="600123456",
        to_number="900100200",
        did="900100200",
        started_at=clock.now(),
        result="answered",
        agent_extension="101",
    )
    recorded = await directory.record_call(rec, clock=clock)
    lead = recorded.lead_created
    assert lead is not None and lead.responsible_id == world.luis.id
    await add_note(world.luis, "Interested in 5 lines", lead_id=lead.id, clock=clock)
    await add_note(
        world.luis, "Said on the call: call back Monday", call_id=recorded.call.id, clock=clock
    )
    task = await create_task(
        world.luis, TaskInput(title="Call back", due_at=clock.now(), lead_id=lead.id), clock=clock
    )
    client = await lead_ops.convert_lead(
        world.luis, lead.id, deal=DealInput(title="5 lines", amount="250"), clock=clock
    )
    full = await get_client(world.luis, client.id)
    assert full.name == "+34600123456" and [p.e164 for p in full.phones] == ["+34600123456"]
    assert full.source_tag_id == world.did_tag.id
    kinds = [e.kind for e in await client_timeline(world.luis, client.id)]
    assert kinds.count("note") == 2 and "call" in kinds and "task" in kinds and "lead" in kinds
    assert "converted" in kinds and "deal" in kinds
    assert (await Call.get(id=recorded.call.id)).client_id == client.id
    await task.refresh_from_db()
    assert task.client_id == client.id
    converted = await Lead.get(id=lead.id)
    assert converted.status == "converted" and converted.converted_client_id == client.id
    deals, _ = await list_deals(world.luis, client_id=client.id)
    assert [d.title for d in deals] == ["5 lines"]
    # The next call from the number finds the client, not the old lead.
    found_client, found_lead = await directory.find_by_phone("600123456")
    assert found_client.id == client.id and found_lead is None
    with pytest.raises(Conflict):
        await lead_ops.convert_lead(world.luis, lead.id, clock=clock)


async def test_lead_cannot_take_a_clients_number(world, clock):
    lead = await lead_ops.create_lead(world.luis, LeadInput(name="Sara"), clock=clock)
    await lead_ops.update_lead(world.luis, lead.id, LeadInput(name="Sara", phones=["600111222"]))
    await create_client(
        world.luis, ClientInput(name="Sara Client", phones=["600111333"]), clock=clock
    )
    with pytest.raises(Conflict) as err:
        await lead_ops.update_lead(
            world.luis, lead.id, LeadInput(name="Sara", phones=["600111333"])
        )
    assert "Sara Client" in str(err.value)


async def test_agent_cannot_convert_anothers_lead(world, clock):
    lead = await lead_ops.create_lead(world.marta, LeadInput(name="Marta's"), clock=clock)
    with pytest.raises(NotFound):  # Luis may not see it: as if there were none
        await lead_ops.convert_lead(world.luis, lead.id, clock=clock)
    client = await lead_ops.convert_lead(world.ana, lead.id, clock=clock)
    assert client.responsible_id == world.marta.id
