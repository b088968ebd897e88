"""demo-data: realistic, consistent with the domain's own rules, deterministic, all-or-nothing."""

import random
from collections import Counter
from datetime import timedelta

import phonenumbers
import pytest
from tortoise import connections

from daemon.demo import DemoCounts, load_demo_data
from daemon.demo import loader as demo_loader
from daemon.demo.numbers import BLOCK_LIST, BLOCKS, block_is_unique, make_invalid_phone, make_phone
from models.contacts import timeline_text
from models.contacts.clients import list_clients
from models.contacts.contact_details import search_key
from models.contacts.phones import parse_phone
from models.core.clock import FixedClock
from models.people import users as user_ops
from models.sales.deals import STATUSES
from models.schema.activity import Note, TimelineEntry
from models.schema.calls import Call
from models.schema.clients import Client, Email, Phone
from models.schema.company import Company
from models.schema.deals import Deal, DealHistory
from models.schema.leads import Lead
from models.schema.tasks import Task
from models.schema.users import User
from models.telephony.caller_directory import CallerDirectory
from models.work.tasks import KINDS as TASK_KINDS
from tests.conftest import truncate_all

SMALL = DemoCounts(clients=300, leads=60, deals=200, tasks=120, calls=400, notes=80)


def test_generated_numbers_agree_with_parse_phone():
    """Numbers are built without phonenumbers; the domain's parser must read them identically."""
    rng = random.Random(11)
    for (country, kind), block in BLOCKS.items():
        assert block_is_unique(block), block
        for _ in range(400):
            phone_id = rng.randrange(1, 10_000_000)
            made = make_phone(rng, phone_id, country, mobile=kind == "mobile")
            parsed = parse_phone(made.typed, "ES")
            assert (parsed.e164, parsed.digits_rev) == (made.e164, made.digits_rev), made
            assert phonenumbers.is_valid_number(phonenumbers.parse(made.e164)), made
    for _ in range(50):
        scribble = make_invalid_phone(rng)
        parsed = parse_phone(scribble.typed, "ES")
        assert parsed.e164 is None and parsed.digits_rev == scribble.digits_rev


def test_numbers_are_unique_per_phone_id_within_a_block():
    for block in BLOCK_LIST:
        ids = range(1, 200_000, 7)
        assert len({block.national(i) for i in ids}) == len(ids)


async def test_small_load_is_consistent(world, clock):
    report = await load_demo_data(SMALL, seed=3, clock=clock)

    assert await Client.all().count() == 300
    assert await Lead.all().count() == 60
    assert await Deal.all().count() == 200
    assert await Task.all().count() == 120
    assert await Call.all().count() == 400
    assert await Note.all().count() == 80
    assert report.rows["client"] == 300 and report.total_rows > 300

    # Every phone is stored exactly as the domain would store what was typed.
    phones = await Phone.all()
    for phone in phones:
        parsed = parse_phone(phone.typed, world.company.default_region)
        assert phone.e164 == parsed.e164, phone.typed
        assert phone.digits_rev == parsed.digits_rev
        assert phone.is_valid == parsed.is_valid
    client_phones = [p for p in phones if p.client_id]
    assert 1.3 <= len(client_phones) / 300 <= 1.7
    e164s = [p.e164 for p in phones if p.e164]
    assert len(e164s) == len(set(e164s)), "a number belongs to one client or lead"
    countries = Counter(p.e164[:3] for p in phones if p.e164)
    assert countries["+34"] > len(e164s) * 0.7 and len(countries) >= 4

    clients = await Client.all()
    assert all(c.name_key == search_key(c.name) for c in clients)
    assert all(c.company_key == search_key(c.company_name) for c in clients)
    for client in clients[:20]:
        # Found by a part of the longest word of its name, through the database's index.
        word = max(client.name_key.split(), key=len)[1:]
        rows, _ = await list_clients(world.ana, query=word, limit=500)
        assert client.id in {r.id for r in rows}, word
    assert {c.type for c in clients} == {"person", "company"}
    # The world's three users plus one demo agent share the clients.
    users = await User.all()
    assert len(users) == 4
    assert {c.responsible_id for c in clients} == {u.id for u in users}
    assert report.created_agents and report.created_agents[0][0] == "sofia.ruiz"
    assert await Email.filter(client_id__isnull=False).count() > 100

    deals = await Deal.all()
    assert {d.currency for d in deals} == {"EUR", "USD"}  # the company's, nothing else
    assert {d.status for d in deals} == set(STATUSES)
    for deal in deals[:50]:
        history = await DealHistory.filter(deal_id=deal.id).order_by("at", "id")
        assert history[0].kind == "created" and history[-1].to_status == deal.status
        assert (deal.closed_at is not None) == (deal.status in ("won", "cancelled"))

    tasks = await Task.all().prefetch_related("assignees")
    assert {t.kind for t in tasks} == set(TASK_KINDS)
    assert any(t.is_done for t in tasks)
    assert any(not t.is_done and t.due_at < clock.now() for t in tasks), "some are overdue"
    assert all(t.assignees for t in tasks)

    assert await Lead.filter(responsible_id__isnull=True, status="open").exists(), "unhandled"
    calls = await Call.all()
    assert {c.direction for c in calls} == {"in", "out"}
    assert {"answered", "missed", "busy"} <= {c.result for c in calls}
    assert all(c.talk_seconds > 0 for c in calls if c.result == "answered")
    by_id = sorted(calls, key=lambda c: c.id)
    assert [c.started_at for c in by_id] == sorted(c.started_at for c in calls), "time order"
    created = {c.id: c.created_at for c in clients}
    assert all(c.started_at >= created[c.client_id] for c in calls if c.client_id)
    linked = [c for c in calls if c.client_id or c.lead_id]
    on_timeline = await TimelineEntry.filter(kind="call").count()
    assert on_timeline == len(linked) > 300
    # Entries keep what happened as data, like the ones the panel writes (models/timeline_text).
    for entry in await TimelineEntry.exclude(kind="note"):
        assert entry.detail and entry.summary == timeline_text.english(entry.detail), entry.summary


async def test_caller_lookup_and_search_find_demo_clients(world, clock):
    await load_demo_data(DemoCounts(clients=50), seed=4, clock=clock)
    directory = await CallerDirectory.load()
    for phone in await Phone.filter(client_id__isnull=False, is_valid=True).limit(20):
        client, lead = await directory.find_by_phone(phone.typed)
        assert client is not None and client.id == phone.client_id and lead is None
    client = await Client.filter(type="person").first()
    rows, total = await list_clients(world.ana, query=client.name, limit=200)
    assert client.id in {c.id for c in rows} and total >= 1


async def _snapshot() -> list:
    """Every row in id order (a table's own order on disk is not the insertion order once
    rows were deleted from it)."""
    clients = await Client.all().order_by("id")
    phones = await Phone.all().order_by("id")
    deals = await Deal.all().order_by("id")
    calls = await Call.all().order_by("id")
    entries = await TimelineEntry.all().order_by("id")
    return [
        [(c.id, c.name, c.status, c.responsible_id, c.created_at) for c in clients],
        [(p.id, p.typed, p.e164, p.client_id, p.lead_id) for p in phones],
        [(d.id, d.title, d.status, d.amount, d.currency, d.client_id) for d in deals],
        [(c.id, c.result, c.peer_e164, c.started_at) for c in calls],
        [(t.id, t.kind, t.summary, t.at) for t in entries],
    ]


async def _fresh_crm() -> None:
    """An empty database with a company and four users (so no demo agent is made), ids from 1.

    The users are inserted directly: hashing passwords would only slow the test down.
    """
    await truncate_all()
    groups = await user_ops.ensure_standard_groups()
    await Company.create(name="Demo", default_currency="EUR", extra_currencies=["MXN"])
    for n, group in enumerate(("Admin", "Agent", "Agent", "Agent")):
        await User.create(username=f"u{n}", extension=f"10{n}", group=groups[group])


async def test_same_seed_same_data(db, clock):
    counts = DemoCounts(clients=80)
    await _fresh_crm()
    await load_demo_data(counts, seed=9, clock=clock)
    first = await _snapshot()
    assert {d[4] for d in first[2]} == {"EUR", "MXN"}
    await _fresh_crm()
    await load_demo_data(counts, seed=9, clock=clock)
    assert await _snapshot() == first
    await _fresh_crm()
    await load_demo_data(counts, seed=10, clock=clock)
    assert await _snapshot() != first


async def test_seed_gives_the_same_data_at_another_time(db, clock):
    """Timestamps follow the clock; names, numbers, amounts and outcomes do not."""

    def timeless(snapshot: list) -> list:
        clients, phones, deals, calls, timeline = snapshot
        return [
            [row[:-1] for row in clients],
            phones,
            deals,
            [row[:-1] for row in calls],
            # A planned task's summary names its due date, which follows the clock.
            [(i, kind, "" if kind == "task" else summary) for i, kind, summary, _ in timeline],
        ]

    await _fresh_crm()
    await load_demo_data(DemoCounts(clients=60), seed=4, clock=clock)
    first = await _snapshot()
    await _fresh_crm()
    later = FixedClock(clock.now() + timedelta(days=3, minutes=7, seconds=13))
    await load_demo_data(DemoCounts(clients=60), seed=4, clock=later)
    second = await _snapshot()
    assert timeless(second) == timeless(first)
    assert second != first


async def test_second_load_appends_without_clashes(world, clock):
    await load_demo_data(DemoCounts(clients=100), seed=1, clock=clock)
    await load_demo_data(DemoCounts(clients=100), seed=1, clock=clock)
    assert await Client.all().count() == 200
    e164s = [p.e164 for p in await Phone.all() if p.e164]
    assert len(e164s) == len(set(e164s))
    # Sequences moved past the chosen ids: the ORM can still insert.
    client = await Client.create(name="Después del demo")
    assert client.id == 201
    assert (await Call.create(direction="in", result="missed", started_at=clock.now())).id > 200


async def _indexes() -> list[str]:
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT indexname AS n FROM pg_indexes WHERE schemaname = current_schema() "
            "UNION ALL SELECT conname FROM pg_constraint WHERE contype = 'f'"
        )
    else:
        rows = await conn.execute_query_dict(
            "SELECT name AS n FROM sqlite_master WHERE type='index'"
        )
    return sorted(r["n"] for r in rows)


async def test_bulk_path_rebuilds_indexes(world, clock, monkeypatch):
    before = await _indexes()
    monkeypatch.setattr(demo_loader, "BULK_INDEX_THRESHOLD", 10)
    await load_demo_data(DemoCounts(clients=120), seed=2, clock=clock)
    assert await _indexes() == before
    assert await Client.all().count() == 120
    phone = await Phone.filter(client_id__isnull=False, is_valid=True).first()
    client, _ = await (await CallerDirectory.load()).find_by_phone(phone.e164)
    assert client.id == phone.client_id


async def test_failed_load_leaves_nothing_behind(world, clock, monkeypatch):
    before = await _indexes()
    monkeypatch.setattr(demo_loader, "BULK_INDEX_THRESHOLD", 10)

    def broken(ctx, count):
        raise RuntimeError("generator failed half-way")

    plan_with_failure = demo_loader.deal_batch
    monkeypatch.setattr(demo_loader, "deal_batch", broken)
    with pytest.raises(RuntimeError):
        await load_demo_data(DemoCounts(clients=60), seed=2, clock=clock)
    monkeypatch.setattr(demo_loader, "deal_batch", plan_with_failure)
    assert await Client.all().count() == 0  # clients were written, then rolled back
    assert await Phone.all().count() == 0
    assert await _indexes() == before


def test_counts_are_checked():
    assert DemoCounts(clients=0).problems() == {"clients": "between 1 and 5,000,000"}
    assert "calls" in DemoCounts(clients=5, calls=-1).problems()
    assert DemoCounts(clients=10).resolved() == DemoCounts(10, 1, 2, 1, 10, 2)
