"""Clients (C1-C6): create, edit, find, delete, and the admin's custom fields.

Who may see a client: its responsible user, anyone when it has none, and groups with
"clients.view_all". Who may change or delete it: the same with "clients.edit_all".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.contacts import contact_details as details
from models.contacts import timeline_text
from models.contacts.client_search import email_filter, looks_like_phone, phone_filter, text_filter
from models.contacts.phones import ParsedPhone
from models.contacts.tallies import client_total
from models.contacts.timeline import add_entry
from models.core import filters
from models.core.clock import Clock, SystemClock
from models.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, msg
from models.core.events import ClientCreated
from models.core.hub import Hub
from models.core.ordering import Sort, SortKeys, sorted_ids, sorted_page
from models.core.sql import Sql, is_id
from models.people.permissions import CLIENTS, has_right, may_edit, visible, visible_record
from models.people.users import get_company
from models.schema.clients import Client, CustomField, Tag
from models.schema.company import SourceTag
from models.schema.users import User

logger = logging.getLogger(__name__)

STATUSES = ("active", "potential", "inactive")
TYPES = ("person", "company")
FIELD_KINDS = ("text", "number", "date", "choice")
# A search reports its total exactly up to this; beyond, it reports SEARCH_COUNT_CAP + 1.
SEARCH_COUNT_CAP = 10_000
# The list's orders: indexed name key and creation time; by responsible through the
# (responsible_id, created_at) index (models/core/ordering.py).
SORTS = SortKeys(
    orders={"name": ("name_key", "id"), "created": ("created_at", "id")},
    default=Sort("created", descending=True),
    by_user={"responsible": "responsible_id"},
    within=("-created_at", "-id"),
)


@dataclass
class ClientInput:
    """What the "+ client" form (or an import row, or the API) gives."""

    name: str
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    company_name: str = ""
    status: str = "active"
    type: str = "person"
    tags: list[str] = field(default_factory=list)
    responsible_id: int | None = None  # None: the creating user (on create), unchanged (on update)
    custom: dict[str, object] = field(default_factory=dict)  # custom field key -> value
    source_tag_id: int | None = None
    import_batch_id: int | None = None


async def _check_input(data: ClientInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not (data.name or "").strip():
        errors["name"] = msg("the client needs a name")
    elif len(data.name.strip()) > 200:
        errors["name"] = msg("at most 200 characters")
    if data.status not in STATUSES:
        errors["status"] = msg("must be one of: %(choices)s", choices=", ".join(STATUSES))
    if data.type not in TYPES:
        errors["type"] = msg("must be one of: %(choices)s", choices=", ".join(TYPES))
    if (
        data.responsible_id is not None
        and not await User.filter(id=data.responsible_id, is_active=True).exists()
    ):
        errors["responsible_id"] = msg("no active user with this id")
    if (
        data.source_tag_id is not None
        and not await SourceTag.filter(id=data.source_tag_id).exists()
    ):
        errors["source_tag_id"] = msg("no such source tag")
    return errors


async def _tags(names: list[str]) -> list[Tag]:
    tags: list[Tag] = []
    for name in dict.fromkeys(n.strip()[:60] for n in names if n and n.strip()):
        tag, _ = await Tag.get_or_create(name=name)
        tags.append(tag)
    return tags


async def _validated(
    data: ClientInput, client_id: int | None, viewer: User | None
) -> tuple[list[ParsedPhone], list[str], dict[int, str]]:
    """Everything checked before anything is written, so a refusal changes nothing."""
    errors = await _check_input(data)
    emails, custom = await details.check_emails_and_custom(
        data.emails, data.custom, "client", errors
    )
    company = await get_company()
    phones = details.check_phones(data.phones, company.default_region, errors)
    if errors:
        raise ValidationFailed(errors)
    await details.check_phone_owners(phones, viewer=viewer, client_id=client_id)
    return phones, emails, custom


async def create_client(
    user: User | None, data: ClientInput, *, clock: Clock | None = None, hub: Hub | None = None
) -> Client:
    """A new client; `user` None means the system (an import or an integration). With a
    `hub` it publishes ClientCreated (webhooks)."""
    clock = clock or SystemClock()
    phones, emails, custom = await _validated(data, None, user)
    responsible_id = (
        data.responsible_id if data.responsible_id is not None else (user.id if user else None)
    )
    now = clock.now()
    async with in_transaction():
        client = await Client.create(
            name=data.name.strip(),
            name_key=details.search_key(data.name)[:200],
            status=data.status,
            type=data.type,
            company_name=data.company_name.strip()[:200],
            company_key=details.search_key(data.company_name)[:200],
            responsible_id=responsible_id,
            created_by_id=user.id if user else None,
            source_tag_id=data.source_tag_id,
            import_batch_id=data.import_batch_id,
            created_at=now,
        )
        await details.replace_phones(phones, client_id=client.id)
        await details.replace_emails(emails, client_id=client.id)
        await details.replace_custom_values(custom, client_id=client.id)
        tags = await _tags(data.tags)
        if tags:
            await client.tags.add(*tags)
        await add_entry(
            "client",
            now,
            client_id=client.id,
            ref_id=client.id,
            detail=timeline_text.detail("client_created", name=client.name),
            user_id=user.id if user else None,
        )
    logger.info("client %s created by %s", client.id, user.username if user else "system")
    if hub is not None:
        hub.publish(ClientCreated(client.id, client.responsible_id))
    return client


async def _visible(user: User, client_id: int) -> Client:
    return await visible_record(user, CLIENTS, Client, client_id)


async def _editable(user: User, client_id: int) -> Client:
    client = await _visible(user, client_id)
    if not may_edit(user, CLIENTS, client.responsible_id):
        raise PermissionDenied(msg("your group may not change another user's client"))
    return client


async def get_client(user: User, client_id: int) -> Client:
    """The client with phones, emails, tags, responsible and custom values (as `custom`) fetched."""
    client = await _visible(user, client_id)
    await client.fetch_related("phones", "emails", "tags", "responsible", "source_tag")
    client.custom = await details.custom_values_of(client_id=client.id)
    return client


async def update_client(user: User, client_id: int, data: ClientInput) -> Client:
    """Replace the client's details with `data` (phones, emails, tags and given custom values)."""
    client = await _editable(user, client_id)
    phones, emails, custom = await _validated(data, client.id, user)
    async with in_transaction():
        client.name = data.name.strip()
        client.name_key = details.search_key(data.name)[:200]
        client.status = data.status
        client.type = data.type
        client.company_name = data.company_name.strip()[:200]
        client.company_key = details.search_key(data.company_name)[:200]
        if data.responsible_id is not None:
            client.responsible_id = data.responsible_id
        if data.source_tag_id is not None:
            client.source_tag_id = data.source_tag_id
        await client.save()
        await details.replace_phones(phones, client_id=client.id)
        await details.replace_emails(emails, client_id=client.id)
        await details.replace_custom_values(custom, client_id=client.id)
        await client.tags.clear()
        tags = await _tags(data.tags)
        if tags:
            await client.tags.add(*tags)
    return await get_client(user, client.id)


async def delete_client(user: User, client_id: int) -> None:
    client = await _editable(user, client_id)
    await client.delete()
    logger.info("client %s deleted by %s", client_id, user.username)


async def _search_filter(query: str, region: str) -> Q:
    """Universal search (C1): phone in any format or its tail, email, name, tag, company."""
    text = query.strip()
    if "@" in text:
        return email_filter(text)
    if looks_like_phone(text):
        return await phone_filter(text, region)
    if not filters.fits(Client, "name_key", details.search_key(text)):
        return email_filter(text)  # longer than any name once its accents are spelled out
    condition = text_filter(text)
    if filters.fits(Tag, "name", text) and await Tag.filter(name=text).exists():
        condition |= _tagged_with(text)
    return condition


def _tagged_with(tag: str) -> Q:
    """Clients carrying a tag: a subquery from the tag's rows (index on client_tag (tag_id,
    client_id)) rather than a join from every client that then needs DISTINCT."""
    return Q(id__in=Subquery(Tag.filter(name=tag).values("clients__id")))


async def _tagged_count(tag: str) -> int:
    """How many clients carry a tag: a range of client_tag's (tag_id, client_id) index."""
    sql = Sql()
    rows = await sql.rows(
        f'SELECT COUNT(*) AS n FROM "client_tag" WHERE tag_id = {_tag_id(sql, tag)}'
    )
    return int(rows[0]["n"])


def _tag_id(sql: Sql, tag: str) -> str:
    return f'(SELECT id FROM "tag" WHERE name = {sql.p(tag)})'


async def _page(ids: list[int]) -> list[Client]:
    """These clients, in this order, with what the list shows of them."""
    by_id = {
        c.id: c
        for c in await Client.filter(id__in=ids).prefetch_related("phones", "tags", "responsible")
    }
    return [by_id[i] for i in ids if i in by_id]


def _tally_scope(user: User, *, mine: bool, responsible_id: int | None) -> list[int | None] | None:
    """The responsibles (None = nobody) whose clients the list shows; None means everyone's."""
    if mine:
        allowed: list[int | None] | None = [user.id]
    elif not has_right(user, "clients.view_all"):
        allowed = [user.id, None]
    else:
        allowed = None
    if responsible_id is not None:
        allowed = [responsible_id] if allowed is None or responsible_id in allowed else []
    return allowed


async def clients_matching(
    user: User | None,
    *,
    mine: bool = False,
    query: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    responsible_id: int | None = None,
    created_since: datetime | None = None,
    created_until: datetime | None = None,
) -> QuerySet[Client]:
    """The clients the list's filters select among those `user` may see (None: the system,
    who sees all): the list page, the export, the dashboard and the widget's search read the
    same rows. `created_since` and `created_until` bound the creation time [since, until)
    (UTC; models/reporting/periods.py makes them from the user's dates).

    The filters are checked here (models/core/filters.py), for all of them at once: a status
    that is none of STATUSES or a search longer than MAX_SEARCH is refused naming the
    parameter; a tag or a responsible that no row can hold matches nothing.
    """
    status = filters.choice("status", status, STATUSES)
    text = filters.search_text(query)
    qs = Client.all()
    if user is not None and mine:
        qs = qs.filter(responsible_id=user.id)
    else:
        qs = visible(user, CLIENTS, qs)
    if responsible_id is not None:
        matching = Q(responsible_id=responsible_id) if is_id(responsible_id) else Q(id__in=[])
        qs = qs.filter(matching)
    if status:
        qs = qs.filter(status=status)
    if created_since is not None:
        qs = qs.filter(created_at__gte=created_since)
    if created_until is not None:
        qs = qs.filter(created_at__lt=created_until)
    if tag:
        qs = qs.filter(_tagged_with(tag) if filters.fits(Tag, "name", tag) else Q(id__in=[]))
    if text:
        company = await get_company()
        qs = qs.filter(await _search_filter(text, company.default_region))
    return qs


async def list_clients(
    user: User,
    *,
    mine: bool = False,
    query: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    responsible_id: int | None = None,
    created_since: datetime | None = None,
    created_until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
    sort: Sort | None = None,
) -> tuple[list[Client], int]:
    """One page of the clients this user may see in `sort` order (one of SORTS; newest
    first by default), and how many match in all.

    With a search `query` the total is exact up to SEARCH_COUNT_CAP; a larger one is reported
    as SEARCH_COUNT_CAP + 1 (show it as "more than 10 000").
    """
    created = created_since is not None or created_until is not None
    qs = await clients_matching(
        user,
        mine=mine,
        query=query,
        tag=tag,
        status=status,
        responsible_id=responsible_id,
        created_since=created_since,
        created_until=created_until,
    )
    if (responsible_id is not None and not is_id(responsible_id)) or (
        tag and not filters.fits(Tag, "name", tag)
    ):
        return [], 0  # no client has them (the shortcuts below would send them to the driver)
    limit = max(1, min(limit, 500))
    offset = max(0, offset)
    searching = filters.search_text(query) is not None
    if searching and offset + limit <= SEARCH_COUNT_CAP:
        # A broad word ("garcia" among a million) would make an exact COUNT scan the table:
        # read at most SEARCH_COUNT_CAP + 1 matching ids instead, in order, and page in them.
        ids = await sorted_ids(qs, SORTS, sort, SEARCH_COUNT_CAP + 1)
        return await _page(ids[offset : offset + limit]), len(ids)
    scope = _tally_scope(user, mine=mine, responsible_id=responsible_id)
    if not tag and not searching and not created:
        # Kept by the database as clients change: no count over a million rows per page view.
        total = await client_total(responsible_ids=scope, status=status)
    elif tag and scope is None and not status and not searching and not created:
        total = await _tagged_count(tag)  # everyone's clients with one tag
    else:
        total = await qs.count()
    qs = qs.prefetch_related("phones", "tags", "responsible")
    rows = await sorted_page(qs, SORTS, sort, offset=offset, limit=limit, total=total)
    return rows, total


async def define_custom_field(
    user: User,
    key: str,
    label: str,
    kind: str = "text",
    *,
    choices: list[str] | None = None,
    applies_to: str = "client",
) -> CustomField:
    """An admin adds a field to clients or leads (C5)."""
    if not has_right(user, "settings.manage"):
        raise PermissionDenied(msg("only admins define custom fields"))
    errors: dict[str, str] = {}
    key = (key or "").strip().lower()
    if not key or not key.replace("_", "").isalnum() or len(key) > 60:
        errors["key"] = msg("letters, digits and _ (up to 60)")
    if not (label or "").strip():
        errors["label"] = msg("required")
    if kind not in FIELD_KINDS:
        errors["kind"] = msg("must be one of: %(choices)s", choices=", ".join(FIELD_KINDS))
    clean_choices = [c.strip() for c in (choices or []) if c and c.strip()]
    if kind == "choice" and not clean_choices:
        errors["choices"] = msg("a choice field needs at least one choice")
    if applies_to not in ("client", "lead"):
        errors["applies_to"] = msg("client or lead")
    if errors:
        raise ValidationFailed(errors)
    if await CustomField.filter(applies_to=applies_to, key=key).exists():
        taken = (
            msg("a lead field %(key)s exists", key=repr(key))
            if applies_to == "lead"
            else msg("a client field %(key)s exists", key=repr(key))
        )
        raise Conflict(taken, field="key")
    position = await CustomField.filter(applies_to=applies_to).count()
    return await CustomField.create(
        key=key,
        label=label.strip()[:100],
        kind=kind,
        choices=clean_choices if kind == "choice" else [],
        applies_to=applies_to,
        position=position,
    )


async def list_custom_fields(applies_to: str = "client") -> list[CustomField]:
    return list(await CustomField.filter(applies_to=applies_to).order_by("position", "id"))


async def delete_custom_field(user: User, field_id: int) -> None:
    if not has_right(user, "settings.manage"):
        raise PermissionDenied(msg("only admins remove custom fields"))
    deleted = await CustomField.filter(id=field_id).delete()
    if not deleted:
        raise NotFound(msg("custom field %(id)s not found", id=field_id))
