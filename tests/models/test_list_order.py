"""Lists sorted by the column a reader chose (models/core/ordering.py), page by page.

Expected orders are written from tests/list_world.py's data: users sort by name (Ana García,
Luis Pérez, Marta Núñez), rows without a user come last, each user's rows newest first.
"""

from __future__ import annotations

import re

import pytest

from models.contacts import clients as client_ops
from models.core.ordering import Sort, flipped
from models.sales import deals as deal_ops
from models.sales import leads as lead_ops
from models.telephony import call_history
from models.telephony.call_history import CallFilter
from models.work import tasks as task_ops
from tests.list_world import seed

CLIENT_ORDERS = {
    Sort("name"): [
        "Álvaro Núñez",
        "Beatriz Alba",
        "Carmen Díaz",
        "david Ortiz",
        "Elena Ruiz",
        "Zoe Zamora",
    ],
    Sort("name", True): [
        "Zoe Zamora",
        "Elena Ruiz",
        "david Ortiz",
        "Carmen Díaz",
        "Beatriz Alba",
        "Álvaro Núñez",
    ],
    Sort("created"): [
        "Zoe Zamora",
        "Álvaro Núñez",
        "david Ortiz",
        "Beatriz Alba",
        "Elena Ruiz",
        "Carmen Díaz",
    ],
    Sort("created", True): [
        "Carmen Díaz",
        "Elena Ruiz",
        "Beatriz Alba",
        "david Ortiz",
        "Álvaro Núñez",
        "Zoe Zamora",
    ],
    Sort("responsible"): [
        "david Ortiz",
        "Zoe Zamora",
        "Elena Ruiz",
        "Beatriz Alba",
        "Álvaro Núñez",
        "Carmen Díaz",
    ],
    Sort("responsible", True): [
        "Carmen Díaz",
        "Álvaro Núñez",
        "Elena Ruiz",
        "Beatriz Alba",
        "david Ortiz",
        "Zoe Zamora",
    ],
}


async def _client_pages(user, sort, size, **filters):
    """Every page of the list in turn, as one list of names, and the total."""
    names: list[str] = []
    offset = 0
    while True:
        rows, total = await client_ops.list_clients(
            user, sort=sort, limit=size, offset=offset, **filters
        )
        names += [c.name for c in rows]
        offset += size
        if offset >= total:
            return names, total


@pytest.mark.parametrize("size", [6, 4, 1])
async def test_clients_in_each_order_page_after_page(world, size):
    await seed(world)
    for sort, expected in CLIENT_ORDERS.items():
        names, total = await _client_pages(world.ana, sort, size)
        assert (sort, names) == (sort, expected)  # later pages are read from the end
        assert total == 6


async def test_a_search_sorts_its_capped_result_too(world):
    await seed(world)
    # Everyone but Zoe Zamora works at Norte S.L.
    for sort, expected in CLIENT_ORDERS.items():
        rows, total = await client_ops.list_clients(world.ana, query="norte", sort=sort)
        assert [c.name for c in rows] == [n for n in expected if n != "Zoe Zamora"]
        assert total == 5


async def test_an_unknown_sort_is_the_default_newest_first(world):
    await seed(world)
    rows, _ = await client_ops.list_clients(world.ana, sort=Sort("password"))
    assert [c.name for c in rows] == CLIENT_ORDERS[Sort("created", True)]
    rows, _ = await client_ops.list_clients(world.ana)
    assert [c.name for c in rows] == CLIENT_ORDERS[Sort("created", True)]


async def test_an_agent_sorts_only_what_they_see(world):
    await seed(world)
    # Luis sees his own clients and the unassigned one.
    names, total = await _client_pages(world.luis, Sort("responsible"), 1)
    assert names == ["Elena Ruiz", "Beatriz Alba", "Carmen Díaz"] and total == 3


async def test_leads_deals_tasks_and_calls_in_each_order(world):
    made = await seed(world)

    async def leads(sort):
        rows, _ = await lead_ops.list_leads(world.ana, view="all", status=None, sort=sort)
        return [r.name for r in rows]

    assert await leads(Sort("name")) == ["lead Alicante", "Lead Cádiz", "Lead Marbella"]
    assert await leads(Sort("created", True)) == ["Lead Marbella", "Lead Cádiz", "lead Alicante"]
    assert await leads(Sort("responsible")) == ["Lead Marbella", "lead Alicante", "Lead Cádiz"]
    assert await leads(Sort("responsible", True)) == [
        "Lead Cádiz",
        "lead Alicante",
        "Lead Marbella",
    ]

    async def deals(sort, offset=0, limit=50):
        rows, _ = await deal_ops.list_deals(world.ana, sort=sort, offset=offset, limit=limit)
        return [d.title for d in rows]

    assert await deals(Sort("title")) == ["Auditoría", "Contrato anual", "Mantenimiento"]
    assert await deals(Sort("amount")) == ["Mantenimiento", "Contrato anual", "Auditoría"]
    assert await deals(Sort("amount", True)) == ["Auditoría", "Contrato anual", "Mantenimiento"]
    assert await deals(Sort("amount", True), offset=2, limit=2) == ["Mantenimiento"]
    assert await deals(Sort("created", True)) == ["Auditoría", "Contrato anual", "Mantenimiento"]
    assert await deals(Sort("responsible")) == ["Mantenimiento", "Contrato anual", "Auditoría"]

    async def tasks(sort, status="any"):
        rows, _ = await task_ops.list_tasks(world.ana, scope="all", status=status, sort=sort)
        return [t.title for t in rows]

    assert await tasks(Sort("title")) == ["Enviar factura", "Llamar a Beatriz", "Revisar contrato"]
    assert await tasks(None) == ["Enviar factura", "Llamar a Beatriz", "Revisar contrato"]
    assert await tasks(Sort("due", True)) == [
        "Revisar contrato",
        "Llamar a Beatriz",
        "Enviar factura",
    ]
    assert await tasks(Sort("created")) == [
        "Enviar factura",
        "Revisar contrato",
        "Llamar a Beatriz",
    ]

    async def calls(sort, offset=0, limit=50):
        rows, _ = await call_history.list_calls(
            world.ana, CallFilter(), sort=sort, offset=offset, limit=limit
        )
        number = {v: k for k, v in made.calls.items()}
        return [number[c.id][-1] for c in rows]

    assert await calls(None) == ["4", "2", "3", "1"]
    assert await calls(Sort("started")) == ["1", "3", "2", "4"]
    assert await calls(Sort("agent")) == ["2", "1", "4", "3"]
    assert await calls(Sort("agent", True)) == ["3", "4", "1", "2"]
    assert await calls(Sort("agent"), offset=3, limit=2) == ["3"]
    assert await calls(Sort("agent", True), offset=1, limit=2) == ["4", "1"]


SORTED_LISTS = [
    (client_ops.SORTS, "client", "responsible_id"),
    (lead_ops.SORTS, "lead", "responsible_id"),
    (deal_ops.SORTS, "deal", "responsible_id"),
    (task_ops.SORTS, "task", None),
    (call_history.SORTS, "call", "agent_id"),
]


@pytest.mark.parametrize(("keys", "table", "user_column"), SORTED_LISTS)
async def test_every_sort_walks_an_index(db, keys, table, user_column):
    """A page in any order (and each user's rows in theirs) reads an index in that order:
    no sort of the whole table per page, whatever it holds (models/core/ordering.py)."""
    from tortoise import Tortoise, connections
    from tortoise.transactions import in_transaction

    model = next(m for m in Tortoise.apps["crm"].values() if m._meta.db_table == table)
    conn = connections.get("default")
    queries = [model.all().order_by(*order) for order in keys.orders.values()]
    queries += [model.all().order_by(*flipped(order)) for order in keys.orders.values()]
    if user_column:
        queries.append(model.filter(**{user_column: 1}).order_by(*keys.within))
        queries.append(model.filter(**{user_column: 1}).order_by(*flipped(keys.within)))
    for qs in queries:
        sql = qs.limit(50).sql(params_inline=True)
        if conn.capabilities.dialect == "sqlite":
            rows = await conn.execute_query_dict(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(r["detail"] for r in rows)
            assert "TEMP B-TREE" not in plan, (sql, plan)
        else:
            # An empty table is read whole by PostgreSQL's planner: ask it to prefer indexes
            # (a sort is then chosen only when no index gives the order).
            async with in_transaction() as pinned:
                await pinned.execute_script("SET LOCAL enable_seqscan = off")
                await pinned.execute_script("SET LOCAL enable_sort = off")
                rows = await pinned.execute_query_dict(f"EXPLAIN {sql}")
            lines = [r["QUERY PLAN"] for r in rows]
            # An index in the order; at most an "Incremental Sort" of the ties (by id).
            full_sorts = [line for line in lines if re.match(r"\s*(->\s+)?Sort\s+\(", line)]
            assert any("Index" in line for line in lines) and not full_sorts, (sql, lines)
