"""Leads (E1-E4): prospects, unhandled until someone takes them, converted into clients.

A lead with no responsible user is "unhandled": anyone may see and claim it. Otherwise it is
its responsible user's, and groups with "leads.view_all" / "leads.edit_all" see / change it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.contacts import contact_details as details
from models.contacts import timeline_text
from models.contacts.timeline import add_entry
from models.core import filters
from models.core.clock import Clock, SystemClock
from models.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, msg
from models.core.events import ClientCreated, LeadCreated
from models.core.hub import Hub
from models.core.ordering import Sort, SortKeys, sorted_page
from models.core.sql import is_id
from models.people.permissions import LEADS, may_edit, may_see, visible, visible_record
from models.people.users import get_company
from models.sales.auto_lead import AutoLead
from models.sales.deals import DealInput, create_deal
from models.sales.lead_search import lead_filter
from models.schema.activity import EmailMessage, Note, Sms, TimelineEntry
from models.schema.calls import Call
from models.schema.clients import Client, Email, Phone
from models.schema.company import SourceTag
from models.schema.leads import Lead
from models.schema.tasks import Task
from models.schema.users import User

logger = logging.getLogger(__name__)

SOURCES = ("manual", "call", "import", "sms", "email", "api", "webhook", "web form")
VIEWS = ("mine", "unhandled", "all")
STATUSES = ("open", "converted", "closed")
# The list's orders (models/core/ordering.py): indexed name key and creation time; by
# responsible through the (responsible_id, created_at) index, each one's newest first.
SORTS = SortKeys(
    orders={"name": ("name_key", "id"), "created": ("created_at", "id")},
    default=Sort("created", descending=True),
    by_user={"responsible": "responsible_id"},
    within=("-created_at", "-id"),
)


@dataclass
class LeadInput:
    name: str = ""  # empty: the first phone (or email) stands for the name
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    company_name: str = ""
    source: str = "manual"
    source_tag_id: int | None = None
    utm: dict[str, str] = field(default_factory=dict)  # utm_source, utm_medium, ... (API, N3)
    custom: dict[str, object] = field(default_factory=dict)
    import_batch_id: int | None = None


async def create_lead(
    user: User | None,
    data: LeadInput,
    *,
    unhandled: bool = False,
    responsible_id: int | None = None,
    clock: Clock | None = None,
    hub: Hub | None = None,
) -> Lead:
    """A new lead (E2): its creator is responsible, or nobody when created as unhandled.
    With a `hub` it publishes LeadCreated (webhooks); callers that publish it themselves
    (calls, mail, web forms) pass none."""
    clock = clock or SystemClock()
    errors: dict[str, str] = {}
    if data.source not in SOURCES:
        errors["source"] = msg("must be one of: %(choices)s", choices=", ".join(SOURCES))
    emails, custom = await details.check_emails_and_custom(data.emails, data.custom, "lead", errors)
    company = await get_company()
    phones = details.check_phones(data.phones, company.default_region, errors)
    name = (
        (data.name or "").strip()
        or (phones[0].typed if phones else "")
        or (emails[0] if emails else "")
    )
    if not name and "phones" not in errors:
        errors["name"] = msg("the lead needs a name, a phone or an email")
    if (
        data.source_tag_id is not None
        and not await SourceTag.filter(id=data.source_tag_id).exists()
    ):
        errors["source_tag_id"] = msg("no such source tag")
    if errors:
        raise ValidationFailed(errors)
    await details.check_phone_owners(phones, viewer=user)
    if responsible_id is None and not unhandled and user is not None:
        responsible_id = user.id
    now = clock.now()
    utm: dict[str, Any] = {
        k: str(v)[:100] for k, v in (data.utm or {}).items() if k.startswith("utm_")
    }
    async with in_transaction():
        lead = await Lead.create(
            name=name[:200],
            name_key=details.search_key(name)[:200],
            company_name=data.company_name.strip()[:200],
            company_key=details.search_key(data.company_name)[:200],
            source=data.source,
            source_tag_id=data.source_tag_id,
            responsible_id=None if unhandled else responsible_id,
            created_by_id=user.id if user else None,
            import_batch_id=data.import_batch_id,
            created_at=now,
            **{k: v for k, v in utm.items() if k in _UTM_FIELDS},
        )
        await details.replace_phones(phones, lead_id=lead.id)
        await details.replace_emails(emails, lead_id=lead.id)
        await details.replace_custom_values(custom, lead_id=lead.id)
        await add_entry(
            "lead",
            now,
            lead_id=lead.id,
            ref_id=lead.id,
            user_id=user.id if user else None,
            detail=timeline_text.detail("lead_created", source=data.source, name=lead.name),
        )
    logger.info("lead %s created (source %s)", lead.id, data.source)
    if hub is not None:
        hub.publish(LeadCreated(lead.id, lead.source, lead.responsible_id))
    return lead


_UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


async def create_auto_lead(plan: AutoLead, *, clock: Clock) -> Lead:
    """Write the lead the auto-lead rule planned (models/sales/auto_lead.py) for an unknown
    number. The caller holds the number's lock from its lookup to here."""
    now = clock.now()
    async with in_transaction():
        lead = await Lead.create(**plan.lead_values(now))
        if plan.phone is not None:
            await details.replace_phones([plan.phone], lead_id=lead.id)
        await add_entry("lead", now, lead_id=lead.id, ref_id=lead.id, detail=plan.detail)
    logger.info("auto-lead %s created for %s (source %s)", lead.id, plan.name, plan.source)
    return lead


async def _visible(user: User, lead_id: int) -> Lead:
    return await visible_record(user, LEADS, Lead, lead_id)


async def get_lead(user: User, lead_id: int) -> Lead:
    lead = await _visible(user, lead_id)
    await lead.fetch_related("phones", "emails", "responsible", "source_tag")
    lead.custom = await details.custom_values_of(lead_id=lead.id)
    return lead


async def claim_lead(user: User, lead_id: int) -> Lead:
    """Take an unhandled lead (E1); the second user to try gets a Conflict, naming the first
    only to a user who may see the lead now (no refusal names what its reader may not see)."""
    lead = await Lead.get_or_none(id=lead_id)
    if lead is None:
        raise NotFound(msg("lead %(id)s not found", id=lead_id))
    # A conditional update, so that two users clicking at once cannot both win.
    taken = await Lead.filter(id=lead_id, responsible_id__isnull=True).update(
        responsible_id=user.id
    )
    if not taken:
        await lead.refresh_from_db()
        owner = await User.get_or_none(id=lead.responsible_id)
        if owner is not None and not may_see(user, LEADS, owner.id):
            owner = None
        raise Conflict(
            msg("this lead was already taken by %(name)s", name=str(owner or msg("another user"))),
            field="responsible",
            other=owner,
        )
    await lead.refresh_from_db()
    return lead


async def update_lead(user: User, lead_id: int, data: LeadInput) -> Lead:
    lead = await _visible(user, lead_id)
    if not may_edit(user, LEADS, lead.responsible_id):
        raise PermissionDenied(msg("your group may not change another user's lead"))
    errors: dict[str, str] = {}
    if not (data.name or "").strip():
        errors["name"] = msg("the lead needs a name")
    emails, custom = await details.check_emails_and_custom(data.emails, data.custom, "lead", errors)
    company = await get_company()
    phones = details.check_phones(data.phones, company.default_region, errors)
    if errors:
        raise ValidationFailed(errors)
    await details.check_phone_owners(phones, viewer=user)
    async with in_transaction():
        lead.name = data.name.strip()[:200]
        lead.name_key = details.search_key(lead.name)[:200]
        lead.company_name = data.company_name.strip()[:200]
        lead.company_key = details.search_key(lead.company_name)[:200]
        await lead.save()
        await details.replace_phones(phones, lead_id=lead.id)
        await details.replace_emails(emails, lead_id=lead.id)
        await details.replace_custom_values(custom, lead_id=lead.id)
    return lead


async def list_leads(
    user: User,
    *,
    view: str = "mine",
    query: str | None = None,
    status: str | None = "open",
    created_since: datetime | None = None,
    created_until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
    sort: Sort | None = None,
) -> tuple[list[Lead], int]:
    """ "My leads", "Unhandled" or (with leads.view_all) all leads in `sort` order (one of
    SORTS; newest first by default), and the total."""
    if view not in VIEWS:
        raise ValidationFailed(
            {"view": msg("must be one of: %(choices)s", choices=", ".join(VIEWS))}
        )
    qs = await leads_matching(
        user,
        view=view,
        status=status,
        query=query,
        created_since=created_since,
        created_until=created_until,
    )
    total = await qs.count()
    qs = qs.prefetch_related("phones", "responsible", "source_tag")
    rows = await sorted_page(
        qs, SORTS, sort, offset=offset, limit=max(1, min(limit, 500)), total=total
    )
    return rows, total


async def leads_matching(
    user: User | None,
    *,
    view: str = "mine",
    status: str | None = None,
    query: str | None = None,
    responsible_id: int | None = None,
    created_since: datetime | None = None,
    created_until: datetime | None = None,
) -> QuerySet[Lead]:
    """The leads a list or an export shows: the view ("mine", "unhandled", "all" within
    what `user` may see; `user` None is the system, which sees all), status, a search, the
    creation time [since, until) (UTC, from the user's dates: models/reporting/periods.py).
    The filters are checked here, once for the page, the export, the dashboard and the
    widget's search (models/core/filters.py)."""
    status = filters.choice("status", status, STATUSES)
    text = filters.search_text(query)
    qs = Lead.all()
    if user is not None and view == "mine":
        qs = qs.filter(responsible_id=user.id)
    elif view == "unhandled":
        qs = qs.filter(responsible_id__isnull=True)
    else:
        qs = visible(user, LEADS, qs)
    if responsible_id is not None:
        matching = Q(responsible_id=responsible_id) if is_id(responsible_id) else Q(id__in=[])
        qs = qs.filter(matching)
    if status:
        qs = qs.filter(status=status)
    if created_since is not None:
        qs = qs.filter(created_at__gte=created_since)
    if created_until is not None:
        qs = qs.filter(created_at__lt=created_until)
    if text:
        qs = qs.filter(await lead_filter(text))
    return qs


async def convert_lead(
    user: User,
    lead_id: int,
    *,
    deal: DealInput | None = None,
    clock: Clock | None = None,
    hub: Hub | None = None,
) -> Client:
    """Turn a lead into a client (E4), optionally with a deal, keeping its whole history.
    With a `hub` it publishes ClientCreated (webhooks).

    Phones, emails, notes, calls, tasks, SMS, emails and timeline entries are re-pointed at the
    new client; the lead stays as "converted" with a link to it.
    """
    clock = clock or SystemClock()
    lead = await _visible(user, lead_id)
    if not may_edit(user, LEADS, lead.responsible_id):
        raise PermissionDenied(msg("your group may not convert another user's lead"))
    if lead.status == "converted":
        client_id = lead.converted_client_id
        raise Conflict(msg("this lead was already converted (client #%(id)s)", id=client_id))
    numbers = await Phone.filter(lead_id=lead.id, e164__isnull=False).values_list("e164", flat=True)
    if numbers:
        owner = await Phone.filter(e164__in=numbers, client_id__isnull=False).first()
        if owner is not None:
            raise await details.number_taken(user, owner)
    now = clock.now()
    responsible_id = lead.responsible_id or user.id
    async with in_transaction():
        client = await Client.create(
            name=lead.name,
            name_key=lead.name_key or details.search_key(lead.name),
            company_name=lead.company_name,
            company_key=details.search_key(lead.company_name)[:200],
            type="company" if lead.company_name and lead.company_name == lead.name else "person",
            responsible_id=responsible_id,
            created_by_id=user.id,
            source_tag_id=lead.source_tag_id,
            created_at=now,
        )
        await Phone.filter(lead_id=lead.id).update(client_id=client.id, lead_id=None)
        await Email.filter(lead_id=lead.id).update(client_id=client.id, lead_id=None)
        for model in (Note, Call, Task, Sms, EmailMessage, TimelineEntry):
            await model.filter(lead_id=lead.id).update(client_id=client.id)
        lead.status = "converted"
        lead.converted_client_id = client.id
        lead.converted_at = now
        if lead.responsible_id is None:
            lead.responsible_id = user.id
        await lead.save()
        await add_entry(
            "converted",
            now,
            client_id=client.id,
            lead_id=lead.id,
            ref_id=lead.id,
            user_id=user.id,
            detail=timeline_text.detail("lead_converted", lead_id=lead.id),
        )
        if deal is not None:
            await create_deal(
                user,
                client.id,
                deal.title,
                deal.amount,
                deal.currency,
                responsible_id=deal.responsible_id,
                clock=clock,
            )
    logger.info("lead %s converted into client %s by %s", lead.id, client.id, user.username)
    if hub is not None:
        hub.publish(ClientCreated(client.id, client.responsible_id))
    return client


async def close_lead(user: User, lead_id: int) -> Lead:
    """Mark a lead as not worth pursuing (it leaves the lists, stays findable with status=None)."""
    lead = await _visible(user, lead_id)
    if not may_edit(user, LEADS, lead.responsible_id):
        raise PermissionDenied(msg("your group may not change another user's lead"))
    if lead.status == "converted":
        raise Conflict(msg("a converted lead cannot be closed"))
    lead.status = "closed"
    await lead.save(update_fields=["status", "updated_at"])
    return lead
