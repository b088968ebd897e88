"""Clients, their phones, emails, tags and custom fields."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.company import SourceTag
    from models.schema.imports import ImportBatch
    from models.schema.leads import Lead
    from models.schema.users import User


class Tag(Model):
    """A label to group clients (C4)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=60, unique=True)

    class Meta:
        table = "tag"


class Client(Model):
    """A customer (C2, C6)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, db_index=True)
    # The name lower-cased without accents, so that a name search is an indexed prefix range.
    name_key = fields.CharField(max_length=200, default="", db_index=True)
    status = fields.CharField(max_length=20, default="active")  # active|potential|inactive
    type = fields.CharField(max_length=20, default="person")  # person|company
    company_name = fields.CharField(max_length=200, default="", db_index=True)
    # The company name lower-cased without accents. Name and company keys are what a text
    # search reads, through the database's trigram index (migration 0005: FTS5 on SQLite,
    # pg_trgm on PostgreSQL), so that any part of either is found.
    company_key = fields.CharField(max_length=200, default="", db_default="")
    responsible: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="clients", null=True, on_delete=fields.SET_NULL
    )
    responsible_id: int | None
    created_by: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="clients_created", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    source_tag: fields.ForeignKeyNullableRelation["SourceTag"] = fields.ForeignKeyField(
        "crm.SourceTag", related_name="clients", null=True, on_delete=fields.SET_NULL
    )
    source_tag_id: int | None
    import_batch: fields.ForeignKeyNullableRelation["ImportBatch"] = fields.ForeignKeyField(
        "crm.ImportBatch", related_name="clients", null=True, on_delete=fields.SET_NULL
    )
    import_batch_id: int | None
    tags: fields.ManyToManyRelation[Tag] = fields.ManyToManyField(
        "crm.Tag", related_name="clients", through="client_tag"
    )
    phones: fields.ReverseRelation["Phone"]
    emails: fields.ReverseRelation["Email"]
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "client"
        indexes = (("responsible_id", "created_at"),)

    def __str__(self) -> str:
        return self.name


class Phone(Model):
    """A phone of a client or a lead, as typed and as E.164.

    `digits_rev` holds the number's digits reversed, so that a search by the
    last digits is an indexed prefix range instead of a scan.
    """

    id = fields.IntField(primary_key=True)
    typed = fields.CharField(max_length=64)
    e164 = fields.CharField(max_length=20, null=True, db_index=True)
    digits_rev = fields.CharField(max_length=32, default="", db_index=True)
    is_valid = fields.BooleanField(default=True)
    position = fields.SmallIntField(default=0)
    client: fields.ForeignKeyNullableRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="phones", null=True, on_delete=fields.CASCADE
    )
    client_id: int | None
    lead: fields.ForeignKeyNullableRelation["Lead"] = fields.ForeignKeyField(
        "crm.Lead", related_name="phones", null=True, on_delete=fields.CASCADE
    )
    lead_id: int | None

    class Meta:
        table = "phone"
        indexes = (("client_id",), ("lead_id",))


class Email(Model):
    """An email address of a client or a lead (stored lower-case)."""

    id = fields.IntField(primary_key=True)
    address = fields.CharField(max_length=255, db_index=True)
    position = fields.SmallIntField(default=0)
    client: fields.ForeignKeyNullableRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="emails", null=True, on_delete=fields.CASCADE
    )
    client_id: int | None
    lead: fields.ForeignKeyNullableRelation["Lead"] = fields.ForeignKeyField(
        "crm.Lead", related_name="emails", null=True, on_delete=fields.CASCADE
    )
    lead_id: int | None

    class Meta:
        table = "email"
        indexes = (("client_id",), ("lead_id",))


class CustomField(Model):
    """An admin-defined field of clients or leads (C5)."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=60)
    label = fields.CharField(max_length=100)
    kind = fields.CharField(max_length=10, default="text")  # text|number|date|choice
    choices: list[str] = fields.JSONField(default=list)
    applies_to = fields.CharField(max_length=10, default="client")  # client|lead
    position = fields.SmallIntField(default=0)

    class Meta:
        table = "custom_field"
        unique_together = (("applies_to", "key"),)


class CustomFieldValue(Model):
    """The value of a custom field for one client or lead, stored as text."""

    id = fields.IntField(primary_key=True)
    field: fields.ForeignKeyRelation["CustomField"] = fields.ForeignKeyField(
        "crm.CustomField", related_name="values", on_delete=fields.CASCADE
    )
    field_id: int
    client: fields.ForeignKeyNullableRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="custom_values", null=True, on_delete=fields.CASCADE
    )
    client_id: int | None
    lead: fields.ForeignKeyNullableRelation["Lead"] = fields.ForeignKeyField(
        "crm.Lead", related_name="custom_values", null=True, on_delete=fields.CASCADE
    )
    lead_id: int | None
    value = fields.TextField(default="")

    class Meta:
        table = "custom_field_value"
        indexes = (("client_id",), ("lead_id",))
