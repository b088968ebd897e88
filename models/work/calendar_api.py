"""What the calendar sync needs from Google Calendar (K2), whatever carries it.

The daemon implements it with google-api-python-client (daemon/google_calendar); the
domain's sync rules (models/work/calendar_sync.py) only see this contract. Events are the
API's own JSON objects (dicts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

Event = dict[str, Any]


class CalendarApiError(Exception):
    """Google answered with an error, or could not be reached; `text` says it plainly."""

    def __init__(self, text: str, *, status: int = 0) -> None:
        super().__init__(text)
        self.text = text
        self.status = status


class SyncTokenExpired(CalendarApiError):
    """410 Gone on a list with a sync token: a full read is needed."""


class AuthorizationRevoked(CalendarApiError):
    """Google refused the refresh token (revoked, expired): the user must connect again."""


@dataclass
class Changes:
    events: list[Event]
    next_sync_token: str


@dataclass
class CalendarEntry:
    id: str
    name: str
    primary: bool
    writable: bool
    time_zone: str = ""


class CalendarApi(Protocol):
    """One user's Google account. Every method is one or more API calls; `calls` counts them."""

    calls: int

    async def list_changes(self, calendar_id: str, sync_token: str | None) -> Changes:
        """Every page of events.list (instances of recurring events expanded, deleted ones
        as status "cancelled"): changes since `sync_token`, or everything without one.
        Raises SyncTokenExpired on 410."""
        ...

    async def insert_event(self, calendar_id: str, body: Event) -> Event: ...

    async def patch_event(self, calendar_id: str, event_id: str, body: Event) -> Event:
        """Raises CalendarApiError with status 404/410 when the event is gone."""
        ...

    async def delete_event(self, calendar_id: str, event_id: str) -> None:
        """An event already gone (404/410) counts as deleted."""
        ...

    async def list_calendars(self) -> list[CalendarEntry]: ...

    async def watch(
        self, calendar_id: str, channel_id: str, address: str, token: str
    ) -> dict[str, Any]:
        """events.watch: the channel's resourceId and expiration (ms since the epoch)."""
        ...

    async def stop_channel(self, channel_id: str, resource_id: str) -> None: ...


class CalendarApiFactory(Protocol):
    def __call__(self, refresh_token: str) -> CalendarApi: ...


class GoogleAuthorization(Protocol):
    """The OAuth 2.0 web flow with Google (the daemon implements it over HTTP)."""

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str: ...

    async def exchange_code(self, code: str, *, code_verifier: str, redirect_uri: str) -> str:
        """The refresh token for an authorization code; CalendarApiError when refused."""
        ...

    async def revoke(self, token: str) -> None:
        """Tell Google to forget the token; errors are logged, not raised."""
        ...
