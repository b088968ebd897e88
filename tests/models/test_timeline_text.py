"""Timeline entries keep what happened as data and read in the reader's language (C7, S4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.contacts import clients as client_ops
from models.contacts import timeline_text
from models.contacts.clients import ClientInput
from models.contacts.notes import add_note
from models.contacts.timeline import client_timeline, lead_timeline
from models.sales.deals import create_deal, move_deal
from models.sales.leads import LeadInput, create_lead
from models.schema.activity import TimelineEntry
from models.telephony.caller_directory import CallerDirectory
from models.work.tasks import TaskInput, create_task
from tests.call_records import T0, inbound

# A stand-in for a gettext catalog: just the messages these tests need.
SPANISH = {
    "Client created: %(name)s": "Cliente creado: %(name)s",
    "Deal %(title)s: %(from_status)s → %(to_status)s": "Acuerdo %(title)s: %(from_status)s → "
    "%(to_status)s",
    "New": "Nuevo acuerdo",
    "Won": "Acuerdo de éxito",
    "Inbound call %(result)s": "Llamada entrante %(result)s",
    "answered": "atendida",
    "Lead created (%(source)s): %(name)s": "Lead creado (%(source)s): %(name)s",
    "manual": "manual",
}


def spanish(message: str) -> str:
    return SPANISH.get(message, message)


async def test_every_operation_stores_data_and_its_english_summary(world, clock):
    client = await client_ops.create_client(
        world.luis, ClientInput(name="Pedro Ruiz", phones=["911234567"]), clock=clock
    )
    deal = await create_deal(world.luis, client.id, "Centralita", "1500", "EUR", clock=clock)
    await move_deal(world.luis, deal.id, "won", clock=clock)
    await create_task(
        world.luis,
        TaskInput(title="Llamar", due_at=T0 + timedelta(days=1), kind="call", client_id=client.id),
        clock=clock,
    )
    await add_note(world.luis, "Quiere una demo\nel viernes", client_id=client.id, clock=clock)
    directory = await CallerDirectory.load()
    await directory.record_call(inbound("1.1", "+34911234567"), clock=clock)
    entries = await client_timeline(world.luis, client.id)
    by_kind = {e.kind: e for e in entries}
    assert set(by_kind) == {"client", "deal", "task", "note", "call"}
    for entry in entries:
        if entry.kind == "note":  # the user's own words: no message, nothing to translate
            assert entry.detail == {} and entry.summary == "Quiere una demo"
            continue
        assert entry.summary == timeline_text.english(entry.detail)
    assert by_kind["client"].detail == {"msg": "client_created", "name": "Pedro Ruiz"}
    moved = [e for e in entries if e.detail.get("msg") == "deal_moved"]
    assert moved[0].summary == "Deal Centralita: New → Won"
    assert moved[0].detail["from_status"] == "new" and moved[0].detail["to_status"] == "won"
    created = [e for e in entries if e.detail.get("msg") == "deal_created"]
    assert created[0].summary == "Deal created: Centralita (1500.00 EUR)"
    assert by_kind["task"].summary == "Call planned: Llamar (2026-11-26 09:00 UTC)"
    assert by_kind["call"].summary == "Inbound call answered (Luis Pérez), 1:05"
    assert timeline_text.render(by_kind["call"].detail, "", spanish) == (
        "Llamada entrante atendida (Luis Pérez), 1:05"
    )
    assert timeline_text.render(moved[0].detail, "", spanish) == (
        "Acuerdo Centralita: Nuevo acuerdo → Acuerdo de éxito"
    )


async def test_a_lead_entry_translates_its_source(world, clock):
    lead = await create_lead(
        world.luis, LeadInput(name="Eva Sanz", phones=["600111222"]), clock=clock
    )
    [entry] = await lead_timeline(world.luis, lead.id)
    assert entry.summary == "Lead created (manual): Eva Sanz"
    assert timeline_text.render(entry.detail, entry.summary, spanish) == (
        "Lead creado (manual): Eva Sanz"
    )


async def test_a_row_from_before_the_detail_shows_its_summary(world, clock):
    client = await client_ops.create_client(world.luis, ClientInput(name="Old"), clock=clock)
    await TimelineEntry.create(
        kind="deal", at=T0, client_id=client.id, summary="Deal Venta: New -> Won"
    )
    old = [e for e in await client_timeline(world.luis, client.id) if e.kind == "deal"][0]
    assert old.detail == {}
    assert timeline_text.render(old.detail, old.summary, spanish) == "Deal Venta: New -> Won"


def test_dates_and_amounts_are_written_the_readers_way():
    task = timeline_text.detail("task_planned", kind="task", title="Demo", due=T0)
    assert timeline_text.english(task) == "Task planned: Demo (2026-11-25 09:00 UTC)"
    shown = timeline_text.render(task, "", str, when=lambda at: f"{at:%d/%m %H:%M}")
    assert shown == "Task planned: Demo (25/11 09:00)"
    deal = timeline_text.detail("deal_created", title="X", amount="1500.00", currency="EUR")
    money = timeline_text.render(deal, "", str, money=lambda amount, code: f"{amount:,} {code}")
    assert money == "Deal created: X (1,500.00 EUR)"


def test_a_translation_that_does_not_fit_falls_back_to_the_summary():
    detail = timeline_text.detail("client_created", name="Ana")

    def broken(message: str) -> str:
        return "Cliente creado: %(nombre)s" if message.startswith("Client created") else message

    assert timeline_text.render(detail, "Client created: Ana", broken) == "Client created: Ana"
    # An unknown message (written by a newer version, say) shows the stored sentence too.
    assert timeline_text.render({"msg": "future"}, "Something", spanish) == "Something"


def test_a_message_needs_its_key_and_params():
    with pytest.raises(ValueError):
        timeline_text.detail("no_such_message", name="Ana")
    with pytest.raises(ValueError):
        timeline_text.detail("client_created", title="wrong param")
    with pytest.raises(ValueError):
        timeline_text.detail("call", direction="sideways", result="answered")
