"""The public API's tokens, web-form lead sources and outgoing webhooks (X3, E3, N3)."""

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.company import SourceTag
    from models.schema.users import User


class ApiToken(Model):
    """A token that acts as its user on /api/v1. Only its SHA-256 is kept, and its first
    characters (token_prefix) let the user tell tokens apart. The scope is read or write."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="api_tokens", on_delete=fields.CASCADE
    )
    user_id: int
    name = fields.CharField(max_length=100, default="")
    token_hash = fields.CharField(max_length=64, unique=True)
    token_prefix = fields.CharField(max_length=16)
    scope = fields.CharField(max_length=5, default="read")  # read|write
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    last_used_ip = fields.CharField(max_length=45, default="")
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"
        indexes = (("user_id",),)


class FormSource(Model):
    """A web form that may create leads through POST /api/v1/forms/{key}."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=100)
    # Origins allowed to post from a browser (CORS), e.g. ["https://www.acme.es"].
    allowed_origins: list[str] = fields.JSONField(default=list)
    source_tag: fields.ForeignKeyNullableRelation["SourceTag"] = fields.ForeignKeyField(
        "crm.SourceTag", related_name="form_sources", null=True, on_delete=fields.SET_NULL
    )
    source_tag_id: int | None
    responsible: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="form_sources", null=True, on_delete=fields.SET_NULL
    )
    responsible_id: int | None
    enabled = fields.BooleanField(default=True)
    submissions = fields.IntField(default=0)
    last_submission_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "form_source"


class WebhookSubscription(Model):
    """An outside address told of chosen events, signed with HMAC-SHA256 under its secret
    (sealed with the installation's key: it must be read back to sign)."""

    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=2000)
    event_types: list[str] = fields.JSONField(default=list)
    secret_encrypted = fields.TextField()
    description = fields.CharField(max_length=200, default="")
    enabled = fields.BooleanField(default=True)
    consecutive_failures = fields.IntField(default=0)
    paused_at = fields.DatetimeField(null=True)
    paused_reason = fields.CharField(max_length=500, default="")
    created_by: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="webhook_subscriptions", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook_subscription"


class WebhookDelivery(Model):
    """One event sent (or being sent) to one subscription: the delivery log."""

    id = fields.IntField(primary_key=True)
    subscription: fields.ForeignKeyRelation[WebhookSubscription] = fields.ForeignKeyField(
        "crm.WebhookSubscription", related_name="deliveries", on_delete=fields.CASCADE
    )
    subscription_id: int
    event_id = fields.CharField(max_length=36, unique=True)
    event_type = fields.CharField(max_length=40)
    payload: dict[str, Any] = fields.JSONField(default=dict)
    status = fields.CharField(max_length=10, default="pending")  # pending|delivered|failed
    attempts = fields.IntField(default=0)
    response_code = fields.IntField(null=True)
    response_excerpt = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (("subscription_id", "created_at"),)
