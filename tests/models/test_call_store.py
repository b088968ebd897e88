"""Calls finished together are stored together (group commit) with every rule kept."""

import asyncio
from dataclasses import replace

import pytest

from models.contacts import clients as client_ops
from models.contacts.clients import ClientInput
from models.contacts.timeline import lead_timeline
from models.schema.activity import TimelineEntry
from models.schema.calls import Call
from models.schema.clients import Phone
from models.schema.leads import Lead
from models.telephony.caller_directory import CallerDirectory
from tests.call_records import inbound


async def test_a_burst_of_calls_is_one_transaction_with_one_lead_per_new_number(world, clock):
    client = await client_ops.create_client(
        world.luis, ClientInput(name="Pedro Ruiz", phones=["911234567"]), clock=clock
    )
    directory = await CallerDirectory.load()
    records = [
        inbound("b.1", "600100001"),
        inbound("b.2", "+34 600 10 00 02", ext="102"),
        inbound("b.3", "600100001", result="missed"),  # same new number again
        inbound("b.4", "911234567"),  # a client
        inbound("b.5", "anonymous", result="missed"),
    ]
    results = await directory.record_calls(records, clock=clock)
    assert directory.store.transactions == 1
    assert [r.created for r in results] == [True] * 5
    by_id = {r.call.linkedid: r for r in results}
    first, second, again = by_id["b.1"], by_id["b.2"], by_id["b.3"]
    assert first.lead_created is not None and second.lead_created is not None
    assert again.lead_created is None and again.call.lead_id == first.call.lead_id
    # The answering agent is responsible for the lead (E1); Marta answered the second.
    assert first.lead_created.responsible_id == world.luis.id
    assert second.lead_created.responsible_id == world.marta.id
    assert by_id["b.4"].call.client_id == client.id and by_id["b.4"].call.lead_id is None
    assert by_id["b.5"].call.lead_id is None and by_id["b.5"].call.client_id is None
    assert await Lead.all().count() == 2
    # What was written is what the results say (ids reserved before the bulk INSERTs).
    for result in results:
        stored = await Call.get(id=result.call.id)
        assert stored.linkedid == result.call.linkedid
        assert (stored.client_id, stored.lead_id) == (result.client_id, result.lead_id)
    phone = await Phone.get(lead_id=first.call.lead_id)
    assert phone.e164 == "+34600100001"
    entries = await lead_timeline(world.ana, first.call.lead_id)
    assert sorted(e.kind for e in entries) == ["call", "call", "lead"]
    assert {e.ref_id for e in entries if e.kind == "call"} == {first.call.id, again.call.id}
    assert await TimelineEntry.filter(kind="call").count() == 4  # not the anonymous one
    # The same burst replayed (a resync after a reconnect) duplicates nothing.
    replays = await directory.record_calls(records, clock=clock)
    assert not any(r.created or r.lead_created for r in replays)
    assert await Call.all().count() == 5 and await Lead.all().count() == 2
    assert await TimelineEntry.filter(kind="call").count() == 4


async def test_one_bad_call_in_a_batch_does_not_lose_the_others(world, clock):
    directory = await CallerDirectory.load()
    bad = replace(inbound("x.2", "600200002"), started_at=None)  # type: ignore[arg-type]
    records = [inbound("x.1", "600200001"), bad, inbound("x.3", "600200003")]
    results = await directory.record_calls(records, clock=clock)
    assert isinstance(results[1], Exception)
    assert {r.call.linkedid for r in (results[0], results[2])} == {"x.1", "x.3"}
    assert sorted(await Call.all().values_list("linkedid", flat=True)) == ["x.1", "x.3"]
    # The failed call made no lead either: its transaction was rolled back.
    assert await Lead.all().count() == 2
    assert len(directory.number_locks) == 0


async def test_updating_a_call_in_the_batch_that_makes_its_numbers_lead(world, clock):
    """A call stored earlier without a lead (auto-lead was off) is recorded again in the same
    batch as a new call from that number: both end up on the one new lead."""
    directory = await CallerDirectory.load()
    telephony = await world_telephony()
    telephony.is_autolead_inbound = False
    await telephony.save()
    early = await directory.record_call(inbound("u.1", "600300003"), clock=clock)
    assert early.call.lead_id is None
    telephony.is_autolead_inbound = True
    await telephony.save()
    results = await directory.record_calls(
        [inbound("u.2", "600300003"), replace(inbound("u.1", "600300003"), talk_seconds=70)],
        clock=clock,
    )
    lead_ids = {r.call.lead_id for r in results}
    assert len(lead_ids) == 1 and None not in lead_ids
    assert await Lead.all().count() == 1
    assert {c.lead_id for c in await Call.all()} == lead_ids


async def world_telephony():
    from models.people.users import get_telephony

    return await get_telephony()


async def test_cancelling_the_caller_that_writes_a_batch_loses_no_call(world, clock):
    directory = await CallerDirectory.load()
    burst = [inbound("c.1", "600400001"), inbound("c.2", "600400002")]
    writer = asyncio.ensure_future(directory.record_calls(burst, clock=clock))
    await asyncio.sleep(0)  # the batch is being written
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer
    await directory.wait_for_writes()  # the batch goes on without its caller
    stored = await directory.record_call(inbound("c.3", "600400003"), clock=clock)
    assert stored.created and stored.lead_created is not None
    linkedids = await Call.all().order_by("linkedid").values_list("linkedid", flat=True)
    assert linkedids == ["c.1", "c.2", "c.3"]
    assert await Lead.all().count() == 3
