"""Clients, their phones, emails, tags and custom fields."""

from tortoise import fields
from tortoise.models import Model


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
    responsible = fields.ForeignKeyField(
        "crm.User", related_name="clients", null=True, on_delete=fields.SET_NULL
    )
    created_by = fields.ForeignKeyField(
        "crm.User", related_name="clients_created", null=True, on_delete=fields.SET_NULL
    )
    source_tag = fields.ForeignKeyField(
        "crm.SourceTag", related_name="clients", null=True, on_delete=fields.SET_NULL
    )
    import_batch = fields.ForeignKeyField(
        "crm.ImportBatch", related_name="clients", null=True, on_delete=fields.SET_NULL
    )
    tags: fields.ManyToManyRelation[Tag] = fields.ManyToManyField(
        "crm.Tag", related_name="clients", through="client_tag"
    )
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "client"
        indexes = (("responsible_id", "created_at"),)

    def __str__(self) -> str:
        return self.name


class ClientWord(Model):
    """One word of a client's name or company name, lower-case without accents.

    Searching clients by any word of the name ("garcia" finds "Ana García") is then an
    indexed prefix range here instead of a scan of a million names.
    """

    id = fields.IntField(primary_key=True)
    word = fields.CharField(max_length=60)
    client = fields.ForeignKeyField("crm.Client", related_name="words", on_delete=fields.CASCADE)

    class Meta:
        table = "client_word"
        indexes = (("word", "client_id"), ("client_id",))


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
    client = fields.ForeignKeyField(
        "crm.Client", related_name="phones", null=True, on_delete=fields.CASCADE
    )
    lead = fields.ForeignKeyField(
        "crm.Lead", related_name="phones", null=True, on_delete=fields.CASCADE
    )

    class Meta:
        table = "phone"
        indexes = (("client_id",), ("lead_id",))


class Email(Model):
    """An email address of a client or a lead (stored lower-case)."""

    id = fields.IntField(primary_key=True)
    address = fields.CharField(max_length=255, db_index=True)
    position = fields.SmallIntField(default=0)
    client = fields.ForeignKeyField(
        "crm.Client", related_name="emails", null=True, on_delete=fields.CASCADE
    )
    lead = fields.ForeignKeyField(
        "crm.Lead", related_name="emails", null=True, on_delete=fields.CASCADE
    )

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
    field = fields.ForeignKeyField(
        "crm.CustomField", related_name="values", on_delete=fields.CASCADE
    )
    client = fields.ForeignKeyField(
        "crm.Client", related_name="custom_values", null=True, on_delete=fields.CASCADE
    )
    lead = fields.ForeignKeyField(
        "crm.Lead", related_name="custom_values", null=True, on_delete=fields.CASCADE
    )
    value = fields.TextField(default="")

    class Meta:
        table = "custom_field_value"
        indexes = (("client_id",), ("lead_id",))
