"""The kanban as a page can show it (A1): per column the first cards, how many in all, and
the sum per currency, so that a board of a hundred thousand deals stays one screen."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from models.contacts.tallies import deal_totals
from models.people.permissions import DEALS, has_right, visible
from models.sales.deals import FINAL_STATUSES, STATUSES
from models.schema.deals import Deal
from models.schema.users import User

CARDS_PER_COLUMN = 50


@dataclass(frozen=True)
class Card:
    """What a kanban card shows; plain values, since hydrating models is the slow part."""

    id: int
    title: str
    amount: Decimal
    currency: str
    client_id: int
    client_name: str


@dataclass
class Column:
    status: str
    cards: list[Card]
    total: int = 0
    sums: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount

    @property
    def hidden(self) -> int:
        return max(0, self.total - len(self.cards))


async def board(
    user: User, *, responsible_id: int | None = None, per_column: int = CARDS_PER_COLUMN
) -> list[Column]:
    """Every status column: the first cards, the count and the sums."""
    base = visible(user, DEALS, Deal.all())
    scope: int | None = responsible_id
    if not has_right(user, "deals.view_all"):
        if responsible_id is not None and responsible_id != user.id:
            scope = -1  # nobody's deals but one's own: an empty board
        else:
            scope = user.id
    if responsible_id is not None:
        base = base.filter(responsible_id=responsible_id)
    # Counts and sums come from the running tallies the database keeps (no scan of the deals).
    totals = await deal_totals(responsible_id=scope)
    columns: list[Column] = []
    for status in STATUSES:
        qs = base.filter(status=status)
        order = ("-closed_at", "-id") if status in FINAL_STATUSES else ("position", "-id")
        rows = (
            await qs.order_by(*order)
            .limit(per_column)
            .values("id", "title", "amount", "currency", "client_id", "client__name")
        )
        cards = [
            Card(r["id"], r["title"], r["amount"], r["currency"], r["client_id"], r["client__name"])
            for r in rows
        ]
        column = Column(status=status, cards=cards)
        for (row_status, currency), (n, amount) in sorted(totals.items()):
            if row_status == status:
                column.total += n
                column.sums[currency] = amount
        columns.append(column)
    return columns
