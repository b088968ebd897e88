"""Logged-in browsers and the login throttle's counters (issue 14, items 16 and 17)."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.users import User


class UserSession(Model):
    """A logged-in browser: deleting the row ends the session.

    Its cookie holds a random key and only the key's SHA-256 is kept here, so a copy of this
    table opens no session.
    """

    id = fields.IntField(primary_key=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="sessions", on_delete=fields.CASCADE
    )
    user_id: int
    created_at = fields.DatetimeField()
    # Written at most once a minute per session; the session ends `session_hours` after it.
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    user_agent = fields.CharField(max_length=255, default="")
    address = fields.CharField(max_length=64, default="")

    class Meta:
        table = "user_session"
        indexes = (("user_id", "expires_at"),)


class LoginThrottle(Model):
    """Login attempts counted for one account or one address, shared by every instance.

    `key` is the SHA-256 of "account:<username>" or "address:<ip>": what people typed as a
    username (sometimes their password) is never stored.
    """

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)
    failures = fields.IntField(default=0)
    window_started_at = fields.DatetimeField(null=True)
    last_failure_at = fields.DatetimeField(null=True, db_index=True)
    locked_until = fields.DatetimeField(null=True)

    class Meta:
        table = "login_throttle"


class RateCounter(Model):
    """A request counter of a rate limit (the REST API's per token, the web forms' per address
    and per form), shared by every instance (models/core/shared_rate_limits.py).

    `key` names the limit, what it counts (a token's or an address's hash) and the window;
    `expires_at` is in seconds since the epoch, as the `limits` library counts time.
    """

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=255, unique=True)
    count = fields.IntField(default=0)
    expires_at = fields.FloatField(db_index=True)

    class Meta:
        table = "rate_counter"
