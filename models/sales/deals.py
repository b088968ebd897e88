"""Deals (A1-A4): a sale to a client moving along the funnel, each move kept in its history.

Who may see a deal: its responsible user and groups with "deals.view_all"; who may change it:
its responsible user and groups with "deals.edit_all".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.contacts import timeline_text
from models.contacts.timeline import add_entry
from models.core import filters
from models.core.clock import Clock, SystemClock
from models.core.errors import PermissionDenied, ValidationFailed, msg
from models.core.events import DealMoved
from models.core.hub import Hub
from models.core.labels import DEAL_STATUS_LABELS
from models.core.ordering import Sort, SortKeys, sorted_page
from models.core.sql import is_id
from models.people.permissions import CLIENTS, DEALS, may_edit, visible, visible_record
from models.people.users import get_company
from models.schema.clients import Client
from models.schema.deals import Deal, DealHistory
from models.schema.users import User

logger = logging.getLogger(__name__)

# The funnel (A2), in order; the last two close the deal.
STATUSES = ("new", "in_progress", "awaiting_decision", "awaiting_payment", "won", "cancelled")
FINAL_STATUSES = ("won", "cancelled")
OPEN_STATUSES = STATUSES[:4]
STATUS_LABELS = DEAL_STATUS_LABELS  # their English names (models/core/labels.py)
# Closed columns of the kanban show only the latest ones; the list view finds the rest.
KANBAN_CLOSED_LIMIT = 50
# The list's orders (models/core/ordering.py), each column indexed (migration 0010 added
# title and amount); by responsible through the (responsible_id, created_at) index (0012),
# each one's newest first.
SORTS = SortKeys(
    orders={"title": ("title", "id"), "amount": ("amount", "id"), "created": ("created_at", "id")},
    default=Sort("created", descending=True),
    by_user={"responsible": "responsible_id"},
    within=("-created_at", "-id"),
)


@dataclass
class DealInput:
    title: str
    amount: Decimal | str | int | float = 0
    currency: str | None = None  # None: the company's default currency
    responsible_id: int | None = None  # None: the acting user


def _amount(value: object) -> Decimal:
    try:
        amount = Decimal(str(value).replace(",", ".").strip() or "0")
    except InvalidOperation:
        raise ValidationFailed({"amount": msg("must be a number")}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed({"amount": msg("must be zero or more")})
    if amount >= Decimal("1e12"):
        raise ValidationFailed({"amount": msg("too large")})
    return amount.quantize(Decimal("0.01"))


async def _currency(value: str | None) -> str:
    company = await get_company()
    if not value:
        return company.default_currency
    code = value.strip().upper()
    allowed = [company.default_currency, *company.extra_currencies]
    if code not in allowed:
        raise ValidationFailed(
            {"currency": msg("must be one of: %(choices)s", choices=", ".join(allowed))}
        )
    return code


async def create_deal(
    user: User,
    client_id: int,
    title: str,
    amount: Decimal | str | int | float = 0,
    currency: str | None = None,
    *,
    responsible_id: int | None = None,
    clock: Clock | None = None,
) -> Deal:
    """A new deal of a client the user may see, in status "new"."""
    clock = clock or SystemClock()
    if not (title or "").strip():
        raise ValidationFailed({"title": msg("the deal needs a title")})
    value = _amount(amount)
    code = await _currency(currency)
    client = await visible_record(user, CLIENTS, Client, client_id)
    if (
        responsible_id is not None
        and not await User.filter(id=responsible_id, is_active=True).exists()
    ):
        raise ValidationFailed({"responsible_id": msg("no active user with this id")})
    now = clock.now()
    async with in_transaction():
        deal = await Deal.create(
            title=title.strip()[:200],
            client_id=client.id,
            responsible_id=responsible_id if responsible_id is not None else user.id,
            status="new",
            amount=value,
            currency=code,
            source_tag_id=client.source_tag_id,
            position=0,
            created_at=now,
        )
        await DealHistory.create(
            deal=deal,
            user=user,
            kind="created",
            to_status="new",
            at=now,
            detail={"amount": str(value), "currency": code},
        )
        await add_entry(
            "deal",
            now,
            client_id=client.id,
            ref_id=deal.id,
            user_id=user.id,
            detail=timeline_text.detail(
                "deal_created", title=deal.title, amount=value, currency=code
            ),
        )
    logger.info("deal %s created for client %s by %s", deal.id, client.id, user.username)
    return deal


async def _visible(user: User, deal_id: int) -> Deal:
    return await visible_record(user, DEALS, Deal, deal_id)


async def _editable(user: User, deal_id: int) -> Deal:
    deal = await _visible(user, deal_id)
    if not may_edit(user, DEALS, deal.responsible_id):
        raise PermissionDenied(msg("your group may not change another user's deal"))
    return deal


async def get_deal(user: User, deal_id: int) -> Deal:
    deal = await _visible(user, deal_id)
    await deal.fetch_related("client", "responsible")
    return deal


async def move_deal(
    user: User,
    deal_id: int,
    status: str,
    position: int | None = None,
    *,
    clock: Clock | None = None,
    hub: Hub | None = None,
) -> Deal:
    """Move a deal to a status (kanban drag, A1); every change of status is kept (A4).
    With a `hub`, a change of status publishes DealMoved (webhooks)."""
    clock = clock or SystemClock()
    _check_status(status)
    deal = await _editable(user, deal_id)
    previous = deal.status
    async with in_transaction():
        if position is not None:
            deal.position = max(0, position)
        await _record_status(user, deal, status, clock.now())
        await deal.save()
    if hub is not None and previous != status:
        hub.publish(DealMoved(deal.id, previous, status, user.id))
    return deal


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValidationFailed(
            {"status": msg("must be one of: %(choices)s", choices=", ".join(STATUSES))}
        )


async def _record_status(user: User, deal: Deal, status: str, now: datetime) -> None:
    """Set the status (the caller saves the deal) and keep the move in history and timeline."""
    previous = deal.status
    deal.status = status
    if status in FINAL_STATUSES:
        deal.closed_at = deal.closed_at if previous == status else now
    else:
        deal.closed_at = None
    if previous == status:
        return
    await DealHistory.create(
        deal=deal, user=user, kind="status", from_status=previous, to_status=status, at=now
    )
    await add_entry(
        "deal",
        now,
        client_id=deal.client_id,
        ref_id=deal.id,
        user_id=user.id,
        detail=timeline_text.detail(
            "deal_moved", title=deal.title, from_status=previous, to_status=status
        ),
    )


async def update_deal(
    user: User,
    deal_id: int,
    *,
    title: str | None = None,
    amount: Decimal | str | int | float | None = None,
    currency: str | None = None,
    responsible_id: int | None = None,
    status: str | None = None,
    clock: Clock | None = None,
    hub: Hub | None = None,
) -> Deal:
    """Change a deal's title, amount, currency, responsible user or status; the change is in
    its history. Everything is checked before anything is written: a refused status never
    leaves the other fields saved (nor a new responsible that would then refuse the move)."""
    clock = clock or SystemClock()
    if status is not None:
        _check_status(status)
    deal = await _editable(user, deal_id)
    changes: dict[str, list[str]] = {}
    if title is not None:
        if not title.strip():
            raise ValidationFailed({"title": msg("the deal needs a title")})
        if title.strip() != deal.title:
            changes["title"] = [deal.title, title.strip()[:200]]
            deal.title = title.strip()[:200]
    if amount is not None:
        value = _amount(amount)
        if value != deal.amount:
            changes["amount"] = [str(deal.amount), str(value)]
            deal.amount = value
    if currency is not None:
        code = await _currency(currency)
        if code != deal.currency:
            changes["currency"] = [deal.currency, code]
            deal.currency = code
    if responsible_id is not None and responsible_id != deal.responsible_id:
        if not await User.filter(id=responsible_id, is_active=True).exists():
            raise ValidationFailed({"responsible_id": msg("no active user with this id")})
        changes["responsible_id"] = [str(deal.responsible_id), str(responsible_id)]
        deal.responsible_id = responsible_id
    previous = deal.status
    moved = status is not None and status != deal.status
    if changes or moved:
        async with in_transaction():
            if changes:
                kind = "amount" if set(changes) <= {"amount", "currency"} else "edited"
                await DealHistory.create(
                    deal=deal, user=user, kind=kind, detail=changes, at=clock.now()
                )
            if moved:
                assert status is not None
                await _record_status(user, deal, status, clock.now())
            await deal.save()
    if hub is not None and moved:
        hub.publish(DealMoved(deal.id, previous, deal.status, user.id))
    return deal


async def delete_deal(user: User, deal_id: int) -> None:
    deal = await _editable(user, deal_id)
    await deal.delete()


def _visible_query(user: User) -> QuerySet[Deal]:
    return visible(user, DEALS, Deal.all())


async def list_deals(
    user: User,
    *,
    status: str | None = None,
    client_id: int | None = None,
    responsible_id: int | None = None,
    query: str | None = None,
    limit: int = 50,
    offset: int = 0,
    sort: Sort | None = None,
) -> tuple[list[Deal], int]:
    """The list view (A1): a page of visible deals in `sort` order (one of SORTS; newest
    first by default), and the total."""
    status = filters.choice("status", status, STATUSES)
    text = filters.search_text(query)
    qs = _visible_query(user)
    if status:
        qs = qs.filter(status=status)
    for column, value in (("client_id", client_id), ("responsible_id", responsible_id)):
        if value is not None:
            qs = qs.filter(**{column: value}) if is_id(value) else qs.filter(id__in=[])
    if text:
        qs = qs.filter(title__icontains=text)
    total = await qs.count()
    qs = qs.select_related("client", "responsible")
    rows = await sorted_page(
        qs, SORTS, sort, offset=offset, limit=max(1, min(limit, 500)), total=total
    )
    return rows, total


async def kanban(user: User, *, responsible_id: int | None = None) -> dict[str, list[Deal]]:
    """Every status column with its cards (client fetched), one query per column."""
    board: dict[str, list[Deal]] = {}
    for status in STATUSES:
        qs = _visible_query(user).filter(status=status)
        if responsible_id is not None:
            qs = qs.filter(responsible_id=responsible_id)
        if status in FINAL_STATUSES:
            qs = qs.order_by("-closed_at", "-id").limit(KANBAN_CLOSED_LIMIT)
        else:
            qs = qs.order_by("position", "-id")
        board[status] = list(await qs.select_related("client"))
    return board


async def deal_history(user: User, deal_id: int) -> list[DealHistory]:
    """The deal's history (A4), oldest first, with the user of each entry fetched."""
    await _visible(user, deal_id)
    return list(
        await DealHistory.filter(deal_id=deal_id).order_by("at", "id").select_related("user")
    )


async def open_deals_of(client_id: int) -> list[Deal]:
    return list(await Deal.filter(client_id=client_id, status__in=OPEN_STATUSES).order_by("-id"))
