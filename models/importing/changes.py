"""What an import writes for one chunk, and how "cancel import" puts things back.

New clients and leads are written in bulk and carry their batch id (`import_batch_id`), so
cancelling deletes them by that id. An existing client or lead the import updates first gets
its previous values saved in an ImportChange row, in the same transaction as the update, so
cancelling restores it even after a restart.
"""

from __future__ import annotations

from typing import Any, cast

from tortoise.queryset import QuerySet

from models.contacts.search_text import search_key
from models.importing.rows import UTM_FIELDS, Record
from models.importing.store import BulkWriter, Param
from models.schema.activity import Note, TimelineEntry
from models.schema.clients import Client, CustomFieldValue, Email, Phone, Tag
from models.schema.deals import Deal
from models.schema.imports import ImportChange
from models.schema.leads import Lead
from models.schema.tasks import Task

_SCALARS = {
    "clients": ("name", "name_key", "status", "type", "company_name", "responsible_id"),
    "leads": (
        "name",
        "name_key",
        "company_name",
        "responsible_id",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
    ),
}


def entity_model(kind: str) -> type[Client] | type[Lead]:
    return Client if kind == "clients" else Lead


def owner_column(kind: str) -> str:
    return "client_id" if kind == "clients" else "lead_id"


async def create_records(
    writer: BulkWriter,
    kind: str,
    records: list[Record],
    ids: list[int],
    *,
    batch_id: int,
    user_id: int | None,
    default_responsible_id: int | None,
    tag_ids: dict[str, int],
) -> None:
    """Insert the new clients (or leads) of one chunk with their phones, emails, values, tags.

    Each table is one statement (or a few on SQLite) over plain tuples made from the
    records' own fields: see BulkWriter.insert_values.
    """
    if not records:
        return
    pairs = list(zip(ids, records, strict=True))
    owner = owner_column(kind)
    now = Param(writer.db_value(writer.now))
    stamps = {
        "created_by_id": Param(user_id),
        "import_batch_id": Param(batch_id),
        "created_at": now,
        "updated_at": now,
    }

    def responsible(r: Record) -> int | None:
        return default_responsible_id if r.responsible_id is None else r.responsible_id

    if kind == "clients":
        columns: tuple[str, ...] = (
            "id",
            "responsible_id",
            "name",
            "name_key",
            "company_name",
            "company_key",
            "status",
            "type",
        )
        rows: list[tuple[Any, ...]] = [
            (
                i,
                responsible(r),
                r.name,
                r.name_key,
                r.company_name,
                r.company_key,
                r.status or "active",
                r.type or "person",
            )
            for i, r in pairs
        ]
        await writer.insert_values(Client, columns, rows, stamps)
        summary = "Client imported: "
    else:
        columns = (
            "id",
            "responsible_id",
            "name",
            "name_key",
            "company_name",
            "company_key",
            *UTM_FIELDS,
        )
        rows = [
            (
                i,
                responsible(r),
                r.name,
                r.name_key,
                r.company_name,
                r.company_key,
                *[r.utm.get(name, "") for name in UTM_FIELDS],
            )
            for i, r in pairs
        ]
        lead = {"status": Param("open"), "source": Param("import"), **stamps}
        await writer.insert_values(Lead, columns, rows, lead)
        summary = "Lead imported: "
    # What happened, as models/contacts/timeline_text.py reads it in each viewer's language. Read
    # back from the rows just written (this batch's, within this chunk's ids): an index
    # range, cheaper than sending every name once more.
    build = "jsonb_build_object" if writer.is_postgres else "json_object"
    entry: dict[str, str | Param] = {
        "kind": Param(kind[:-1]),
        "ref_id": "e.id",
        "summary": f"substr('{summary}' || e.name, 1, 500)",
        "detail": f"{build}('msg', '{kind[:-1]}_imported', 'name', e.name)",
        "user_id": Param(user_id),
        "at": now,
        owner: "e.id",
    }
    table = entity_model(kind)._meta.db_table
    await writer.insert_from_rows(
        TimelineEntry,
        entry,
        f'"{table}" AS e',
        f"e.id BETWEEN {min(ids):d} AND {max(ids):d} AND e.import_batch_id = {batch_id:d}",
    )
    await writer.insert_values(
        Phone,
        ("typed", "e164", "digits_rev", "is_valid", "position", owner),
        [
            (typed[:64], e164, rev[:32], e164 is not None, position, i)
            for i, r in pairs
            for position, (typed, e164, rev) in enumerate(r.phones)
        ],
    )
    await writer.insert_values(
        Email,
        ("address", "position", owner),
        [(address, position, i) for i, r in pairs for position, address in enumerate(r.emails)],
    )
    await writer.insert_values(
        CustomFieldValue,
        ("field_id", "value", owner),
        [(field_id, value, i) for i, r in pairs for field_id, value in r.custom.items() if value],
    )
    if kind != "clients":
        return
    await writer.insert_values(
        "client_tag",
        ("client_id", "tag_id"),
        [(i, tag_ids[name]) for i, r in pairs for name in r.tags],
    )


async def _snapshot(kind: str, entity: Client | Lead) -> dict[str, Any]:
    owner: dict[str, Any] = {owner_column(kind): entity.pk}
    previous: dict[str, Any] = {name: getattr(entity, name) for name in _SCALARS[kind]}
    previous["phone_ids"] = await Phone.filter(**owner).values_list("id", flat=True)
    previous["email_ids"] = await Email.filter(**owner).values_list("id", flat=True)
    previous["custom"] = {
        str(fid): value
        for fid, value in await CustomFieldValue.filter(**owner).values_list("field_id", "value")
    }
    if isinstance(entity, Client):
        previous["tag_ids"] = [t.id for t in await entity.tags.all()]
    return previous


async def update_record(
    kind: str,
    entity_id: int,
    rec: Record,
    *,
    batch_id: int | None,
    snapshot: bool,
    tag_ids: dict[str, int],
) -> bool:
    """Merge a row into an existing client or lead; False when it no longer exists."""
    model = entity_model(kind)
    entity = await model.get_or_none(id=entity_id)
    if entity is None:
        return False
    # A row this import created itself needs no snapshot: cancelling deletes it.
    if snapshot and batch_id is not None and entity.import_batch_id != batch_id:
        previous = await _snapshot(kind, entity)
        await ImportChange.create(
            batch_id=batch_id,
            entity=kind[:-1],
            entity_id=entity_id,
            action="updated",
            previous=previous,
        )
    if rec.name and not rec.name_from_company:
        entity.name = rec.name
        entity.name_key = rec.name_key
    if rec.company_name:
        entity.company_name = rec.company_name
        entity.company_key = rec.company_key
    if rec.responsible_id is not None:
        entity.responsible_id = rec.responsible_id
    if isinstance(entity, Client):
        entity.status = rec.status or entity.status
        entity.type = rec.type or entity.type
    for name, value in rec.utm.items():
        setattr(entity, name, value)
    await entity.save()
    owner: dict[str, Any] = {owner_column(kind): entity_id}
    have = await Phone.filter(**owner).values_list("e164", "typed")
    known = {e or t for e, t in have}
    new_phones = [p for p in rec.phones if (p[1] or p[0]) not in known]
    await Phone.bulk_create(
        [
            Phone(
                typed=typed[:64],
                e164=e164,
                digits_rev=rev[:32],
                is_valid=e164 is not None,
                position=len(have) + i,
                **owner,
            )
            for i, (typed, e164, rev) in enumerate(new_phones)
        ]
    )
    have_emails = cast(list[str], await Email.filter(**owner).values_list("address", flat=True))
    new_emails = [a for a in rec.emails if a not in have_emails]
    await Email.bulk_create(
        [Email(address=a, position=len(have_emails) + i, **owner) for i, a in enumerate(new_emails)]
    )
    for field_id, value in rec.custom.items():
        updated = await CustomFieldValue.filter(field_id=field_id, **owner).update(value=value)
        if not updated and value:
            await CustomFieldValue.create(field_id=field_id, value=value, **owner)
    if isinstance(entity, Client) and rec.tags:
        tags = await Tag.filter(id__in=[tag_ids[t] for t in rec.tags])
        await entity.tags.add(*tags)
    return True


async def in_use(kind: str, batch_id: int) -> set[int]:
    """Rows of an import that people have worked on since (deals, tasks, notes, a lead taken
    further): cancelling the import keeps them rather than deleting that work with them."""
    if kind == "clients":
        joined = {"client__import_batch_id": batch_id}
        used = await _ids(Deal.filter(**joined), "client_id")
        used |= await _ids(Task.filter(**joined), "client_id")
        used |= await _ids(Note.filter(**joined), "client_id")
        return used
    joined = {"lead__import_batch_id": batch_id}
    used = await _ids(Task.filter(**joined), "lead_id")
    used |= await _ids(Note.filter(**joined), "lead_id")
    moved_on = Lead.filter(import_batch_id=batch_id).exclude(status="open")
    return used | await _ids(moved_on, "id")


async def _ids(query: QuerySet[Any], column: str) -> set[int]:
    """One id column's values (Tortoise types a flat values_list as a list of tuples)."""
    return set(cast(list[int], await query.values_list(column, flat=True)))


async def restore(change: ImportChange) -> None:
    """Put an updated client or lead back as it was before the import."""
    kind = change.entity + "s"
    model = entity_model(kind)
    entity = await model.get_or_none(id=change.entity_id)
    if entity is None:
        return  # deleted since: nothing to restore
    previous = change.previous
    for name in _SCALARS[kind]:
        setattr(entity, name, previous[name])
    entity.company_key = search_key(entity.company_name)[:200]
    await entity.save()
    owner: dict[str, Any] = {owner_column(kind): change.entity_id}
    await Phone.filter(**owner).exclude(id__in=previous["phone_ids"] or [0]).delete()
    await Email.filter(**owner).exclude(id__in=previous["email_ids"] or [0]).delete()
    custom = {int(k): v for k, v in previous["custom"].items()}
    await CustomFieldValue.filter(**owner).exclude(field_id__in=list(custom) or [0]).delete()
    for field_id, value in custom.items():
        updated = await CustomFieldValue.filter(field_id=field_id, **owner).update(value=value)
        if not updated:
            await CustomFieldValue.create(field_id=field_id, value=value, **owner)
    if isinstance(entity, Client):
        keep = set(previous.get("tag_ids", []))
        added = [t for t in await entity.tags.all() if t.id not in keep]
        if added:
            await entity.tags.remove(*added)
