"""The kanban as a page can show it (A1): per column the first cards, how many in all, and
the sum per currency, so that a board of a hundred thousand deals stays one screen."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tortoise.functions import Count, Sum

from models.deals import FINAL_STATUSES, STATUSES
from models.permissions import has_right
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
    base = Deal.all()
    if not has_right(user, "deals.view_all"):
        base = base.filter(responsible_id=user.id)
    if responsible_id is not None:
        base = base.filter(responsible_id=responsible_id)
    # One aggregate for the whole board: each round trip to the database thread counts.
    sums = (
        await base.annotate(n=Count("id"), amount_sum=Sum("amount"))
        .group_by("status", "currency")
        .values("status", "currency", "n", "amount_sum")
    )
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
        for row in sums:
            if row["status"] == status:
                column.total += row["n"]
                column.sums[row["currency"]] = Decimal(str(row["amount_sum"] or 0))
        columns.append(column)
    return columns
