"""Notes, SMS, emails and the timeline that orders them (C7)."""

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.calls import Call
    from models.schema.clients import Client
    from models.schema.deals import Deal
    from models.schema.leads import Lead
    from models.schema.mail import MailAccount
    from models.schema.users import User


class Note(Model):
    """A note on a client, lead, deal or call."""

    id = fields.IntField(primary_key=True)
    text = fields.TextField()
    author: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="notes", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    client: fields.ForeignKeyNullableRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="notes", null=True, on_delete=fields.CASCADE
    )
    client_id: int | None
    lead: fields.ForeignKeyNullableRelation["Lead"] = fields.ForeignKeyField(
        "crm.Lead", related_name="notes", null=True, on_delete=fields.CASCADE
    )
    lead_id: int | None
    deal: fields.ForeignKeyNullableRelation["Deal"] = fields.ForeignKeyField(
        "crm.Deal", related_name="notes", null=True, on_delete=fields.CASCADE
    )
    deal_id: int | None
    call: fields.ForeignKeyNullableRelation["Call"] = fields.ForeignKeyField(
        "crm.Call", related_name="notes", null=True, on_delete=fields.CASCADE
    )
    call_id: int | None
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "note"
        indexes = (("client_id",), ("lead_id",), ("deal_id",), ("call_id",))


class Sms(Model):
    """An SMS sent or received."""

    id = fields.IntField(primary_key=True)
    direction = fields.CharField(max_length=3)  # in|out
    number = fields.CharField(max_length=32)
    text = fields.TextField()
    status = fields.CharField(
        max_length=12, default="queued"
    )  # queued|sent|delivered|failed|received
    error = fields.CharField(max_length=255, default="")
    gateway_ref = fields.CharField(max_length=100, default="", db_index=True)
    user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="sms", null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    client: fields.ForeignKeyNullableRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="sms", null=True, on_delete=fields.SET_NULL
    )
    client_id: int | None
    lead: fields.ForeignKeyNullableRelation["Lead"] = fields.ForeignKeyField(
        "crm.Lead", related_name="sms", null=True, on_delete=fields.SET_NULL
    )
    lead_id: int | None
    created_at = fields.DatetimeField(db_index=True)
    sent_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sms"


class EmailMessage(Model):
    """An email sent or received."""

    id = fields.IntField(primary_key=True)
    direction = fields.CharField(max_length=3)  # in|out
    message_id = fields.CharField(max_length=255, default="", db_index=True)
    sender = fields.CharField(max_length=255)
    recipients = fields.TextField(default="")
    subject = fields.CharField(max_length=500, default="")
    body = fields.TextField(default="")
    user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="emails_sent", null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    client: fields.ForeignKeyNullableRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="email_messages", null=True, on_delete=fields.SET_NULL
    )
    client_id: int | None
    lead: fields.ForeignKeyNullableRelation["Lead"] = fields.ForeignKeyField(
        "crm.Lead", related_name="email_messages", null=True, on_delete=fields.SET_NULL
    )
    lead_id: int | None
    created_at = fields.DatetimeField(db_index=True)
    # Mailboxes (G5, C6-C8): where a synced message came from, how it threads, how sending went.
    account: fields.ForeignKeyNullableRelation["MailAccount"] = fields.ForeignKeyField(
        "crm.MailAccount", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    account_id: int | None
    folder = fields.CharField(max_length=200, default="", db_default="")
    uid = fields.BigIntField(null=True)
    in_reply_to = fields.CharField(max_length=255, default="", db_default="")
    references = fields.TextField(default="", db_default="")
    body_html = fields.TextField(default="", db_default="")  # as received; sanitized to show
    snippet = fields.CharField(max_length=300, default="", db_default="")
    # received | queued | sent | failed (outgoing mail goes through the outbox)
    status = fields.CharField(max_length=10, default="received", db_default="received")
    error = fields.CharField(max_length=500, default="", db_default="")
    sent_at = fields.DatetimeField(null=True)  # the Date header, or when it was sent
    has_attachments = fields.BooleanField(default=False, db_default=False)
    bulk_ref = fields.CharField(max_length=36, default="", db_default="")  # one bulk send

    class Meta:
        table = "email_message"
        unique_together = (("account_id", "message_id"),)


class TimelineEntry(Model):
    """One event on a client's or lead's timeline, in time order.

    Denormalised on purpose: the card shows it with one indexed query.
    When a lead converts, its entries are re-pointed at the new client.
    `detail` says what happened as data ({"msg": key, **params}, see
    models/contacts/timeline_text.py)
    so each reader sees it in their language; `summary` is the same in English, for search,
    exports and the rows written before `detail` existed (their `detail` is empty).
    """

    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyNullableRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="timeline", null=True, on_delete=fields.CASCADE
    )
    client_id: int | None
    lead: fields.ForeignKeyNullableRelation["Lead"] = fields.ForeignKeyField(
        "crm.Lead", related_name="timeline", null=True, on_delete=fields.CASCADE
    )
    lead_id: int | None
    kind = fields.CharField(max_length=20)  # call|note|task|deal|email|sms|lead|converted
    ref_id = fields.IntField(null=True)
    summary = fields.CharField(max_length=500, default="")
    detail: dict[str, Any] = fields.JSONField(default=dict, db_default={})
    user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="timeline", null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "timeline_entry"
        indexes = (("client_id", "at"), ("lead_id", "at"))
