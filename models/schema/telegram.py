"""Telegram bookkeeping: sent call notifications and failed link-code guesses (B1, B2)."""

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.users import User


class TelegramMessage(Model):
    """A call notification in one user's chat.

    Keyed by the call's Linkedid and the user, so that the notification can be edited as
    the call progresses and a reply to it lands on that call's client or lead.
    `message_id` is filled when the outbox has actually sent the message.
    """

    id = fields.IntField(primary_key=True)
    linkedid = fields.CharField(max_length=64)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="telegram_messages", on_delete=fields.CASCADE
    )
    user_id: int
    chat_id = fields.BigIntField()
    message_id = fields.BigIntField(null=True)
    direction = fields.CharField(max_length=10, default="in")
    card: dict[str, Any] = fields.JSONField(default=dict)
    state = fields.CharField(
        max_length=12, default="ringing"
    )  # ringing|answered|ended|missed|elsewhere|stopped|unanswered|busy|failed
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "telegram_message"
        unique_together = (("linkedid", "user_id"),)
        indexes = (("chat_id", "message_id"),)


class TelegramLinkGuess(Model):
    """A wrong link code typed in a chat, kept to rate-limit guessing."""

    id = fields.IntField(primary_key=True)
    chat_id = fields.BigIntField(db_index=True)
    at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "telegram_link_guess"
