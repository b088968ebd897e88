"""Google Calendar connections (G2) and the tasks they carry both ways (K2).

A user connects one Google account and picks one of its calendars. Each CRM task that
travels is one event in each participant's calendar: one `GoogleEventLink` per (connection,
event). The refresh token is sealed (models/core/secret_box.py); the push channel's token
is kept only as its SHA-256.
"""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.tasks import Task
    from models.schema.users import User


class GoogleCalendarLink(Model):
    """One user's connected Google Calendar and where its sync stands."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="google_calendars", on_delete=fields.CASCADE, unique=True
    )
    user_id: int
    google_email = fields.CharField(max_length=254, default="")
    refresh_token_sealed = fields.TextField()
    calendar_id = fields.CharField(max_length=255, default="")  # "" until the user picks one
    calendar_name = fields.CharField(max_length=255, default="")
    push_to_google = fields.BooleanField(default=True)  # future CRM tasks become events
    pull_from_google = fields.BooleanField(default=True)  # future events become CRM tasks
    sync_token = fields.TextField(default="")  # "" until the first full read
    connected_at = fields.DatetimeField(auto_now_add=True)
    last_sync_at = fields.DatetimeField(null=True)
    last_pull_at = fields.DatetimeField(null=True)
    last_full_sync_at = fields.DatetimeField(null=True)  # a weekly full read widens the horizon
    pull_requested_at = fields.DatetimeField(null=True)  # a push notification came
    last_error = fields.CharField(max_length=500, default="")
    failures = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    needs_reconnect = fields.BooleanField(default=False)  # Google refused the refresh token
    channel_id = fields.CharField(max_length=64, default="")
    channel_resource_id = fields.CharField(max_length=255, default="")
    channel_token_hash = fields.CharField(max_length=64, default="")
    channel_expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "google_calendar"


class GoogleEventLink(Model):
    """A CRM task as one event of one connected calendar. `task` is null once the task was
    deleted in the CRM: the next sync deletes the event and then this row."""

    id = fields.IntField(primary_key=True)
    calendar: fields.ForeignKeyRelation[GoogleCalendarLink] = fields.ForeignKeyField(
        "crm.GoogleCalendarLink", related_name="events", on_delete=fields.CASCADE
    )
    calendar_id: int
    task: fields.ForeignKeyNullableRelation["Task"] = fields.ForeignKeyField(
        "crm.Task", related_name="google_events", null=True, on_delete=fields.SET_NULL
    )
    task_id: int | None
    event_id = fields.CharField(max_length=255)
    ical_uid = fields.CharField(max_length=255, default="")
    recurring_event_id = fields.CharField(max_length=255, default="")
    instance_start = fields.CharField(max_length=40, default="")  # originalStartTime
    etag = fields.CharField(max_length=100, default="")
    body_hash = fields.CharField(max_length=64, default="")  # what the CRM last wrote or read
    google_updated = fields.DatetimeField(null=True)  # the event's `updated` at the last sync
    task_version = fields.DatetimeField(null=True)  # the task's updated_at at the last sync

    class Meta:
        table = "google_event_link"
        unique_together = (("calendar_id", "event_id"),)
        indexes = (("task_id",), ("ical_uid",))


class GoogleOAuthState(Model):
    """An authorization under way: the `state` sent to Google (kept as its SHA-256), the PKCE
    verifier, who asked and when (a state older than 15 minutes is refused)."""

    id = fields.IntField(primary_key=True)
    state_hash = fields.CharField(max_length=64, unique=True)
    code_verifier = fields.CharField(max_length=128)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="google_oauth_states", on_delete=fields.CASCADE
    )
    user_id: int
    created_at = fields.DatetimeField()

    class Meta:
        table = "google_oauth_state"
