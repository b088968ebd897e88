"""Leads: prospects not yet clients (E1-E4)."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.clients import Client, Email, Phone
    from models.schema.company import SourceTag
    from models.schema.imports import ImportBatch
    from models.schema.users import User


class Lead(Model):
    """A prospect, unhandled while it has no responsible user."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, db_index=True)
    # The name lower-cased without accents, so that a name search is an indexed prefix range.
    name_key = fields.CharField(max_length=200, default="", db_index=True)
    company_name = fields.CharField(max_length=200, default="")
    # The company's search key, like name_key: the trigram search reads both (migration 0009).
    company_key = fields.CharField(max_length=200, default="", db_default="")
    status = fields.CharField(max_length=20, default="open", db_index=True)  # open|converted|closed
    source = fields.CharField(
        max_length=20, default="manual"
    )  # manual|call|import|sms|email|api|webhook
    source_tag: fields.ForeignKeyNullableRelation["SourceTag"] = fields.ForeignKeyField(
        "crm.SourceTag", related_name="leads", null=True, on_delete=fields.SET_NULL
    )
    source_tag_id: int | None
    utm_source = fields.CharField(max_length=100, default="")
    utm_medium = fields.CharField(max_length=100, default="")
    utm_campaign = fields.CharField(max_length=100, default="")
    utm_term = fields.CharField(max_length=100, default="")
    utm_content = fields.CharField(max_length=100, default="")
    responsible: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="leads", null=True, on_delete=fields.SET_NULL
    )
    responsible_id: int | None
    created_by: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="leads_created", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    converted_client: fields.ForeignKeyNullableRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="from_leads", null=True, on_delete=fields.SET_NULL
    )
    converted_client_id: int | None
    converted_at = fields.DatetimeField(null=True)
    import_batch: fields.ForeignKeyNullableRelation["ImportBatch"] = fields.ForeignKeyField(
        "crm.ImportBatch", related_name="leads", null=True, on_delete=fields.SET_NULL
    )
    import_batch_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    phones: fields.ReverseRelation["Phone"]
    emails: fields.ReverseRelation["Email"]

    class Meta:
        table = "lead"
        indexes = (("responsible_id", "status"),)

    @property
    def is_unhandled(self) -> bool:
        return self.responsible_id is None
