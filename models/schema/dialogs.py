"""Where each Telegram chat is in a dialog with the bot (aiogram's FSM), kept across restarts."""

from typing import Any

from tortoise import fields
from tortoise.models import Model


class ChatDialog(Model):
    """The open dialog of one chat: its state ("TaskDialog:due") and what it gathered so far.

    Keyed like aiogram's storage key: bot, chat, Telegram user, thread, business connection
    and destiny. A row exists only while a dialog is open: ending it deletes the row.
    """

    id = fields.IntField(primary_key=True)
    bot_id = fields.BigIntField()
    chat_id = fields.BigIntField()
    telegram_user_id = fields.BigIntField()
    thread_id = fields.BigIntField(default=0)
    business_connection_id = fields.CharField(max_length=100, default="")
    destiny = fields.CharField(max_length=100, default="default")
    state = fields.CharField(max_length=200, null=True)
    data: dict[str, Any] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "chat_dialog"
        unique_together = (
            (
                "bot_id",
                "chat_id",
                "telegram_user_id",
                "thread_id",
                "business_connection_id",
                "destiny",
            ),
        )
