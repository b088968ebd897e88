"""Shared set-up of the calendar sync tests: the local Google, the real adapters pointed at
it, and users connected to their calendars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet

from daemon.google_calendar.api import api_factory
from daemon.google_calendar.runner import CalendarSyncRunner
from models.core.clock import SystemClock
from models.core.hub import Hub
from models.core.secret_box import SecretBox
from models.core.settings import GoogleSettings, Settings, WebSettings
from models.schema.calendar_sync import GoogleCalendarLink
from models.schema.users import User
from models.work import google_calendar as connections
from tests.fakes.google_calendar import FakeGoogle

BOX = SecretBox(Fernet.generate_key())


def google_settings(google: FakeGoogle, **changes: object) -> GoogleSettings:
    values: dict[str, object] = {
        "client_id": google.client_id,
        "client_secret": google.client_secret,
        "auth_uri": google.auth_uri,
        "token_uri": google.token_uri,
        "revoke_uri": google.revoke_uri,
        "api_url": google.base_url,
        "backoff_seconds": 0.01,
        "retries": 3,
    }
    values.update(changes)
    return GoogleSettings.model_validate(values)


def runner_for(google: FakeGoogle, hub: Hub, *, public_url: str = "", **changes: object):
    gs = google_settings(google, **changes)
    settings = Settings(google=gs, web=WebSettings(public_url=public_url))
    return CalendarSyncRunner(settings, BOX, SystemClock(), hub, api_factory(gs))


def email_of(user: User) -> str:
    return f"{user.username}@acme.example"


async def connect(
    google: FakeGoogle, user: User, *, push: bool = True, pull: bool = True
) -> GoogleCalendarLink:
    """The user connected (as the OAuth flow would leave it) with their primary calendar."""
    email = email_of(user)
    if user.email != email:
        user.email = email
        await user.save(update_fields=["email"])
    google.add_account(email)
    link = await connections.save_connection(
        user, google.issue_refresh_token(email), box=BOX, google_email=email
    )
    return await connections.choose_calendar(
        link, email, email, push_to_google=push, pull_from_google=pull, known_ids=[email]
    )


def soon(days: int = 1, hour: int = 10) -> datetime:
    """A time to come, on the hour (UTC)."""
    day = datetime.now(UTC) + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def live(google: FakeGoogle, user: User) -> list[dict]:
    """The user's events in Google that are not deleted."""
    email = email_of(user)
    return [e for e in google.events(email, email) if e.get("status") != "cancelled"]
