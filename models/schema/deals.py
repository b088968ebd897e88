"""Deals and their history (A1-A4)."""

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.clients import Client
    from models.schema.company import SourceTag
    from models.schema.users import User


class Deal(Model):
    """A sale to a client, moving along the funnel."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    client: fields.ForeignKeyRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="deals", on_delete=fields.CASCADE
    )
    client_id: int
    responsible: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="deals", null=True, on_delete=fields.SET_NULL
    )
    responsible_id: int | None
    status = fields.CharField(max_length=20, default="new", db_index=True)
    amount = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = fields.CharField(max_length=3, default="EUR")
    source_tag: fields.ForeignKeyNullableRelation["SourceTag"] = fields.ForeignKeyField(
        "crm.SourceTag", related_name="deals", null=True, on_delete=fields.SET_NULL
    )
    source_tag_id: int | None
    position = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "deal"
        # The list sorts by title, and by responsible with each one's newest first
        # (models/sales/deals.py SORTS); by amount through an index migration 0010 makes by
        # hand (on SQLite, of CAST(amount AS NUMERIC)).
        indexes = (
            ("client_id",),
            ("responsible_id", "status"),
            ("title",),
            ("responsible_id", "created_at"),
        )


class DealHistory(Model):
    """One entry of a deal's activity history (A4)."""

    id = fields.IntField(primary_key=True)
    deal: fields.ForeignKeyRelation["Deal"] = fields.ForeignKeyField(
        "crm.Deal", related_name="history", on_delete=fields.CASCADE
    )
    deal_id: int
    user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="deal_history", null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    kind = fields.CharField(max_length=20)  # created|status|amount|edited|note
    from_status = fields.CharField(max_length=20, default="")
    to_status = fields.CharField(max_length=20, default="")
    detail: dict[str, Any] = fields.JSONField(default=dict)
    at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "deal_history"
        indexes = (("deal_id", "at"),)
