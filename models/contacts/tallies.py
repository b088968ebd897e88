"""Totals read from the running counts (models/schema/tallies.py) instead of counting rows.

`NOBODY` stands for "no responsible" in the tallies, where SQL's NULL cannot be a key.
"""

from __future__ import annotations

from decimal import Decimal

from tortoise.functions import Sum

from models.schema.tallies import ClientTally, DealTally

NOBODY = 0


async def client_total(
    *, responsible_ids: list[int | None] | None = None, status: str | None = None
) -> int:
    """How many clients, optionally only those of these responsibles (None = nobody)."""
    query = ClientTally.all()
    if responsible_ids is not None:
        query = query.filter(responsible_id__in=[r or NOBODY for r in responsible_ids])
    if status:
        query = query.filter(status=status)
    rows = await query.annotate(total=Sum("clients")).values("total")
    return int(rows[0]["total"] or 0) if rows else 0


async def deal_totals(
    *, responsible_id: int | None = None
) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """(status, currency) -> (deals, amount), for one responsible or everybody."""
    query = DealTally.filter(deals__gt=0)
    if responsible_id is not None:
        query = query.filter(responsible_id=responsible_id)
    totals: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for status, currency, deals, cents in await query.values_list(
        "status", "currency", "deals", "amount_cents"
    ):
        n, amount = totals.get((status, currency), (0, Decimal(0)))
        totals[(status, currency)] = (n + deals, amount + Decimal(cents).scaleb(-2))
    return totals
