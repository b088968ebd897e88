"""The caller's name from the PBX (issue 14, item 2): when it names someone, and what it names
(the auto-lead, the stored call, the pop-up card)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from models.people.users import get_telephony
from models.sales.auto_lead import CALL, auto_lead_for, caller_id_name
from models.schema.calls import Call
from models.schema.leads import Lead
from models.telephony.caller_directory import CallerDirectory
from tests.call_records import inbound

SWITCHES = SimpleNamespace(
    is_autolead_inbound=True, is_autolead_outbound=True, is_autolead_sms=True
)


@pytest.mark.parametrize(
    ("name", "number", "expected"),
    [
        ("José Núñez", "+34600111222", "José Núñez"),
        ("  José   Núñez\t", "+34600111222", "José Núñez"),
        ("王伟", "+8613800138000", "王伟"),
        ("Алексей", "+74951234567", "Алексей"),
        ("", "+34600111222", ""),
        (None, "+34600111222", ""),
        ("<unknown>", "+34600111222", ""),
        ("Anonymous", "", ""),
        ("+34600111222", "+34600111222", ""),  # repeats the number
        ("600 111 222", "+34600111222", ""),  # the number written otherwise
        ("(91) 123-45-67", "+34911234567", ""),
        ("Bar 2000", "+34600111222", "Bar 2000"),  # digits in a real name stay
        ("Ana\x00\x1b[31m", "+34600111222", "Ana [31m"),  # no control characters
    ],
)
def test_a_pbx_name_counts_only_when_it_names_someone(name, number, expected):
    assert caller_id_name(name, number) == expected


def test_the_auto_lead_is_named_after_the_caller_else_after_the_number():
    named = auto_lead_for(
        "+34600111222", region="ES", switches=SWITCHES, source=CALL, caller_name="José Núñez"
    )
    assert named is not None
    assert (named.name, named.name_key) == ("José Núñez", "jose nunez")
    for nobody in ("", "<unknown>", "+34600111222", "600111222"):
        plan = auto_lead_for(
            "600111222", region="ES", switches=SWITCHES, source=CALL, caller_name=nobody
        )
        assert plan is not None and plan.name == "+34600111222", nobody


async def test_a_missed_call_stores_the_name_and_names_its_auto_lead(world, clock):
    directory = await CallerDirectory.load()
    record = replace(inbound("n.1", "+34 600 111 222", result="missed"), caller_name="José Núñez")
    stored = await directory.record_call(record, clock=clock)
    assert stored.call.caller_name == "José Núñez"
    lead = await Lead.get(id=stored.call.lead_id)
    assert lead.name == "José Núñez"
    # The next call from the number finds the lead by its number, whatever the PBX says then.
    again = replace(inbound("n.2", "600111222", result="missed"), caller_name="J. Núñez")
    assert (await directory.record_call(again, clock=clock)).call.lead_id == lead.id
    assert await Lead.all().count() == 1
    # The card of a later call names the lead; the PBX's words stay beside it.
    card = await directory.caller_card("600111222", "J. Núñez")
    assert (card.lead_id, card.name, card.caller_name) == (lead.id, "José Núñez", "J. Núñez")


async def test_without_auto_leads_the_call_keeps_the_name_for_the_calls_list(world, clock):
    telephony = await get_telephony()
    telephony.is_autolead_inbound = False
    await telephony.save()
    directory = await CallerDirectory.load()
    record = replace(inbound("n.3", "+34600333444", result="missed"), caller_name="Pilar Gómez")
    stored = await directory.record_call(record, clock=clock)
    assert (stored.call.lead_id, stored.call.client_id) == (None, None)
    assert (await Call.get(linkedid="n.3")).caller_name == "Pilar Gómez"
    # A later word about the same call without the name (a resync) keeps it.
    await directory.record_call(replace(record, caller_name=""), clock=clock)
    assert (await Call.get(linkedid="n.3")).caller_name == "Pilar Gómez"
    card = await directory.caller_card("+34600333444", "Pilar Gómez")
    assert (card.is_known, card.caller_name) == (False, "Pilar Gómez")
