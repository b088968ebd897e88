"""The running counts behind the big lists' totals stay equal to a real count.

Whatever changes clients and deals (the ORM, raw SQL, a cascade from a deleted client, a
bulk update), the tallies kept by the database triggers must match COUNT and SUM over the
tables themselves: the dashboard, the client list and the kanban show them as totals.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from tortoise import connections

from daemon.demo import DemoCounts, load_demo_data
from models.contacts.tallies import client_total
from models.sales import deals
from models.sales.board import board
from models.schema.clients import Client
from models.schema.deals import Deal
from models.schema.tallies import ClientTally, DealTally


async def _client_counts() -> tuple[Counter, Counter]:
    real: Counter = Counter()
    for responsible, status in await Client.all().values_list("responsible_id", "status"):
        real[(responsible or 0, status)] += 1
    kept: Counter = Counter()
    for responsible, status, n in await ClientTally.all().values_list(
        "responsible_id", "status", "clients"
    ):
        if n:
            kept[(responsible, status)] = n
    return real, kept


async def _deal_sums() -> tuple[Counter, Counter]:
    real: Counter = Counter()
    for responsible, status, currency, amount in await Deal.all().values_list(
        "responsible_id", "status", "currency", "amount"
    ):
        key = (responsible or 0, status, currency)
        real[key + ("deals",)] += 1
        real[key + ("cents",)] += int(Decimal(amount) * 100)
    kept: Counter = Counter()
    for responsible, status, currency, n, cents in await DealTally.all().values_list(
        "responsible_id", "status", "currency", "deals", "amount_cents"
    ):
        key = (responsible, status, currency)
        if n:
            kept[key + ("deals",)] = n
        if cents:
            kept[key + ("cents",)] = cents
    return real, kept


async def _assert_clients_match() -> None:
    real, kept = await _client_counts()
    assert kept == real


async def _assert_deals_match() -> None:
    real, kept = await _deal_sums()
    assert kept == +real


async def test_client_tally_follows_every_change(world):
    a, b = world.luis, world.marta
    first = await Client.create(name="Uno", responsible_id=a.id)
    await Client.create(name="Dos", responsible_id=a.id, status="potential")
    third = await Client.create(name="Tres")  # nobody responsible
    await _assert_clients_match()
    assert (await ClientTally.get(responsible_id=a.id, status="active")).clients == 1

    first.responsible_id = b.id
    first.status = "inactive"
    await first.save()
    third.name = "Tres bis"  # a change the tally does not care about
    await third.save()
    await _assert_clients_match()

    conn = connections.get("default")
    await conn.execute_query('UPDATE "client" SET "status" = \'active\'')  # bulk, raw SQL
    await _assert_clients_match()
    await Client.filter(responsible_id=a.id).delete()
    await third.delete()
    await _assert_clients_match()
    assert sum(await ClientTally.all().values_list("clients", flat=True)) == 1


async def test_deal_tally_follows_moves_amounts_and_cascades(world):
    ana, luis = world.ana, world.luis
    client = await Client.create(name="Cliente", responsible_id=luis.id)
    other = await Client.create(name="Otro", responsible_id=ana.id)
    d1 = await Deal.create(title="A", client=client, responsible=luis, amount=Decimal("100.10"))
    await Deal.create(title="B", client=client, responsible=luis, amount=Decimal("0.29"))
    await Deal.create(
        title="C", client=other, responsible=ana, amount=Decimal("999999.99"), currency="USD"
    )
    await Deal.create(title="D", client=other, responsible=None, amount=Decimal("5"))
    await _assert_deals_match()

    d1.status = "won"
    d1.amount = Decimal("150.55")
    await d1.save()
    await _assert_deals_match()
    row = await DealTally.get(responsible_id=luis.id, status="won", currency="EUR")
    assert (row.deals, row.amount_cents) == (1, 15055)

    d1.currency = "USD"
    d1.responsible_id = ana.id
    await d1.save()
    await _assert_deals_match()

    await client.delete()  # its deals go with it, through the foreign key's cascade
    await _assert_deals_match()
    assert await Deal.all().count() == 2
    await Deal.all().delete()
    await _assert_deals_match()
    assert sum(await DealTally.all().values_list("deals", flat=True)) == 0


async def test_tallies_follow_bulk_loads(world, clock):
    """demo-data writes through executemany / COPY with indexes dropped: the totals follow."""
    await Client.create(name="Ya estaba", responsible_id=world.ana.id)
    await load_demo_data(DemoCounts(clients=300, deals=200), seed=5, clock=clock)
    await _assert_clients_match()
    await _assert_deals_match()
    assert await client_total() == await Client.all().count() == 301


async def test_kanban_columns_show_counts_and_sums_after_moves(world, clock):
    ana, luis = world.ana, world.luis
    client = await Client.create(name="Cliente", responsible_id=luis.id)
    first = await deals.create_deal(luis, client.id, "Uno", "100.50", clock=clock)
    await deals.create_deal(luis, client.id, "Dos", "0.25", clock=clock)
    await deals.create_deal(ana, client.id, "Tres", "10", "USD", responsible_id=ana.id, clock=clock)
    await deals.move_deal(luis, first.id, "won", clock=clock)

    columns = {c.status: c for c in await board(ana)}
    assert (columns["new"].total, columns["new"].sums) == (
        2,
        {"EUR": Decimal("0.25"), "USD": Decimal("10.00")},
    )
    assert (columns["won"].total, columns["won"].sums) == (1, {"EUR": Decimal("100.50")})
    assert [card.title for card in columns["won"].cards] == ["Uno"]

    # An agent without "see every deal" sees the totals of their own deals only.
    mine = {c.status: c for c in await board(luis)}
    assert (mine["new"].total, mine["new"].sums) == (1, {"EUR": Decimal("0.25")})
    assert mine["won"].total == 1
