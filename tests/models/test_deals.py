from decimal import Decimal

import pytest

from models.contacts.clients import ClientInput, create_client
from models.core.errors import NotFound, ValidationFailed
from models.sales import deals as deal_ops


@pytest.fixture
async def pedro(world, clock):
    return await create_client(world.luis, ClientInput(name="Pedro Ruiz"), clock=clock)


async def test_deal_in_default_or_extra_currency(world, clock, pedro):
    eur = await deal_ops.create_deal(world.luis, pedro.id, "Lines", "1200,5", clock=clock)
    assert (eur.currency, eur.amount, eur.status) == ("EUR", Decimal("1200.50"), "new")
    usd = await deal_ops.create_deal(world.luis, pedro.id, "Support", 300, "usd", clock=clock)
    assert usd.currency == "USD"
    with pytest.raises(ValidationFailed) as err:
        await deal_ops.create_deal(world.luis, pedro.id, "Yen", 1, "JPY", clock=clock)
    assert "EUR" in err.value.fields["currency"]
    with pytest.raises(ValidationFailed) as err:
        await deal_ops.create_deal(world.luis, pedro.id, "", "-5", clock=clock)
    assert "title" in err.value.fields or "amount" in err.value.fields
    with pytest.raises(NotFound):
        await deal_ops.create_deal(world.luis, 999999, "X", 1, clock=clock)


async def test_moves_are_kept_in_history_and_final_status_closes(world, clock, pedro):
    deal = await deal_ops.create_deal(world.luis, pedro.id, "Lines", 100, clock=clock)
    await deal_ops.move_deal(world.luis, deal.id, "in_progress", clock=clock)
    clock.advance(hours=1)
    won = await deal_ops.move_deal(world.luis, deal.id, "won", clock=clock)
    assert won.closed_at == clock.now()
    history = await deal_ops.deal_history(world.luis, deal.id)
    assert [(h.kind, h.from_status, h.to_status) for h in history] == [
        ("created", "", "new"),
        ("status", "new", "in_progress"),
        ("status", "in_progress", "won"),
    ]
    assert history[-1].user.id == world.luis.id
    with pytest.raises(ValidationFailed):
        await deal_ops.move_deal(world.luis, deal.id, "lost", clock=clock)
    reopened = await deal_ops.move_deal(world.luis, deal.id, "awaiting_payment", clock=clock)
    assert reopened.closed_at is None


async def test_kanban_groups_by_status_and_respects_ownership(world, clock, pedro):
    a = await deal_ops.create_deal(world.luis, pedro.id, "A", 1, clock=clock)
    b = await deal_ops.create_deal(world.luis, pedro.id, "B", 2, clock=clock)
    await deal_ops.move_deal(world.luis, b.id, "awaiting_decision", clock=clock)
    board = await deal_ops.kanban(world.luis)
    assert list(board) == list(deal_ops.STATUSES)
    assert [d.id for d in board["new"]] == [a.id]
    assert [d.id for d in board["awaiting_decision"]] == [b.id]
    assert board["new"][0].client.name == "Pedro Ruiz"
    assert all(not cards for cards in (await deal_ops.kanban(world.marta)).values())
    assert len((await deal_ops.kanban(world.ana))["new"]) == 1
    with pytest.raises(NotFound, match=f"^deal {a.id} not found$"):  # as if there were none
        await deal_ops.move_deal(world.marta, a.id, "won", clock=clock)


async def test_update_amount_is_in_history(world, clock, pedro):
    deal = await deal_ops.create_deal(world.luis, pedro.id, "Lines", 100, clock=clock)
    await deal_ops.update_deal(world.luis, deal.id, amount="150", currency="USD", clock=clock)
    history = await deal_ops.deal_history(world.luis, deal.id)
    assert history[-1].kind == "amount" and history[-1].detail["amount"] == ["100.00", "150.00"]


async def test_an_edit_with_a_status_is_checked_whole_before_anything_is_saved(
    world, clock, pedro
):
    deal = await deal_ops.create_deal(world.luis, pedro.id, "Lines", 100, clock=clock)
    with pytest.raises(ValidationFailed) as err:
        await deal_ops.update_deal(world.luis, deal.id, title="Renamed", status="bogus")
    assert set(err.value.fields) == {"status"}
    assert (await deal_ops.get_deal(world.luis, deal.id)).title == "Lines"  # nothing saved
    # Handing the deal to Marta and winning it in one edit: Luis may do both (it is his
    # when he saves); the move is not refused halfway because the deal became Marta's.
    await deal_ops.update_deal(
        world.luis, deal.id, responsible_id=world.marta.id, status="won", clock=clock
    )
    saved = await deal_ops.get_deal(world.ana, deal.id)
    assert (saved.responsible_id, saved.status, saved.closed_at) == (
        world.marta.id,
        "won",
        clock.now(),
    )
    kinds = [h.kind for h in await deal_ops.deal_history(world.ana, deal.id)]
    assert kinds == ["created", "edited", "status"]
