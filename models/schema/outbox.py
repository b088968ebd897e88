"""The outbox: side effects written with the change that causes them."""

from typing import Any

from tortoise import fields
from tortoise.models import Model


class OutboxMessage(Model):
    """A message to send (Telegram, SMS, email, webhook), retried until done."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=20, db_index=True)
    payload: dict[str, Any] = fields.JSONField(default=dict)
    dedupe_key = fields.CharField(max_length=200, null=True, unique=True)
    status = fields.CharField(max_length=10, default="pending", db_index=True)  # pending|sent|dead
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    last_error = fields.TextField(default="")
    result: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
