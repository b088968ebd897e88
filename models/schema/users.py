"""Users, permission groups, invitations."""

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Group(Model):
    """A permission group (G7): standard Admin and Agent, or a custom one."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=60, unique=True)
    is_standard = fields.BooleanField(default=False)
    rights: list[str] = fields.JSONField(default=list)

    class Meta:
        table = "user_group"


class User(Model):
    """A person who logs in: an admin or an agent (G1, G3, M1)."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=60, unique=True)
    email = fields.CharField(max_length=255, default="")
    password_hash = fields.CharField(max_length=255, default="")
    full_name = fields.CharField(max_length=120, default="")
    extension = fields.CharField(max_length=20, null=True, unique=True)
    position = fields.CharField(max_length=100, default="")
    phone = fields.CharField(max_length=40, default="")
    language = fields.CharField(max_length=5, default="es")
    photo_path = fields.CharField(max_length=255, default="")
    time_zone = fields.CharField(max_length=64, default="Europe/Madrid")
    first_weekday = fields.SmallIntField(default=0)  # 0 = Monday
    # The working-hours schedule (G3), validated by models/people/schedule.py: a weekly grid
    # {"kind": "weekly", "days": {"0": [["09:00","18:00"]], ...}} or a rotation such as
    # day-night-48 {"kind": "rotation", "start": "2026-01-01",
    #               "pattern": [[["08:00","20:00"]], [["20:00","08:00"]], [], []]}
    work_schedule: dict[str, Any] = fields.JSONField(default=dict)
    reminder_minutes = fields.IntField(default=15)
    dashboard_layout: dict[str, Any] = fields.JSONField(default=dict)
    telegram_chat_id = fields.BigIntField(null=True, unique=True)
    # Who the linked chat is on Telegram and since when (shown on the profile page).
    telegram_name = fields.CharField(max_length=150, default="", db_default="")
    telegram_username = fields.CharField(max_length=64, default="", db_default="")
    telegram_linked_at = fields.DatetimeField(null=True)
    # The web phone's SIP password (issue 20), sealed with the installation's SecretBox.
    sip_password_sealed = fields.TextField(
        default="", db_default="", description="SIP password of the web phone, encrypted"
    )
    is_active = fields.BooleanField(default=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "crm.Group", related_name="users", on_delete=fields.RESTRICT
    )
    group_id: int
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "crm_user"

    def __str__(self) -> str:
        return self.full_name or self.username


class Invite(Model):
    """An invitation to join (M2): by email or as a link, single use, expiring."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    email = fields.CharField(max_length=255, default="")
    extension = fields.CharField(max_length=20, null=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "crm.Group", related_name="invites", on_delete=fields.CASCADE
    )
    group_id: int
    created_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "crm.User", related_name="invites_sent", on_delete=fields.CASCADE
    )
    created_by_id: int
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "invite"


class TelegramLinkCode(Model):
    """A one-time code that links a Telegram chat to a user (B1), kept as its SHA-256."""

    id = fields.IntField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "crm.User", related_name="telegram_codes", on_delete=fields.CASCADE
    )
    user_id: int
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "telegram_link_code"
