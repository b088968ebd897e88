"""A local Google (OAuth 2.0 + Calendar API v3) for the calendar sync's tests and benchmarks.

It speaks the real protocol closely enough for google-api-python-client built from its shipped
discovery document, pointed here with client_options={"api_endpoint": fake.base_url +
"/calendar/v3/"}, and for google-auth Credentials refreshing against `fake.token_uri`.

    async with FakeGoogle() as google:
        google.add_account("ana@example.com", calendars=["Sales"])
        refresh_token = google.issue_refresh_token("ana@example.com")

Known simplifications (see the sibling modules): an endless series is expanded two years ahead;
webhook addresses may be plain http and no "sync" message is sent when a channel is created
(call `notify(channel_id, "sync")`); every calendar's time zone is UTC.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from email.utils import format_datetime
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.google_calendar_api import CalendarApi
from tests.fakes.google_calendar_oauth import OAuthServer
from tests.fakes.google_calendar_store import Store

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"


class FakeGoogle:
    """Google's OAuth endpoints and Calendar API on 127.0.0.1, with hooks for tests."""

    def __init__(
        self,
        client_id: str = "test-client.apps.googleusercontent.com",
        client_secret: str = "test-secret",
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.store = Store()
        self.oauth = OAuthServer(client_id, client_secret, self.store.accounts)
        self.api = CalendarApi(self.store, self.oauth)
        self.api_calls = self.api.api_calls
        self.channels = self.api.channels
        self.revoked_tokens = self.oauth.revoked_tokens
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    @property
    def auth_uri(self) -> str:
        return self.base_url + "/o/oauth2/v2/auth"

    @property
    def token_uri(self) -> str:
        return self.base_url + "/token"

    @property
    def revoke_uri(self) -> str:
        return self.base_url + "/revoke"

    @property
    def api_endpoint(self) -> str:
        """What to give googleapiclient as client_options["api_endpoint"]."""
        return self.base_url + "/calendar/v3/"

    # lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.add_routes(self.oauth.routes() + self.api.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.store.base_url = self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGoogle:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # accounts and tokens ----------------------------------------------------------------
    def add_account(self, email: str, *, calendars: list[str] | tuple[str, ...] = ()) -> None:
        """Primary calendar id = email; others "<slug>@group.calendar.google.com"."""
        self.store.add_account(email, calendars)

    def calendar_ids(self, email: str) -> list[str]:
        return list(self.store.accounts[email].calendars)

    def issue_refresh_token(self, email: str, scope: str = CALENDAR_SCOPE) -> str:
        """A refresh token as if `email` had consented to our client (no browser)."""
        grant = self.oauth.new_grant(email, self.client_id, scope, offline=True)
        assert grant.refresh_token is not None
        return grant.refresh_token

    def expire_access_tokens(self) -> None:
        """Every access token handed out so far expires now (the next call answers 401)."""
        self.oauth.expire_access_tokens()

    # events, as if changed in Google's own UI -------------------------------------------
    def events(self, email: str, calendar_id: str) -> list[dict[str, Any]]:
        calendar = self.store.calendar(email, calendar_id)
        return [copy.deepcopy(stored.body) for stored in calendar.events.values()]

    def insert_event(self, email: str, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.store.insert(self.store.calendar(email, calendar_id), body)

    def patch_event(
        self, email: str, calendar_id: str, event_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        calendar = self.store.calendar(email, calendar_id)
        return self.store.change(calendar, event_id, changes, replace=False)

    def delete_event(self, email: str, calendar_id: str, event_id: str) -> None:
        self.store.delete(self.store.calendar(email, calendar_id), event_id)

    def invalidate_sync_tokens(self, email: str) -> None:
        self.store.accounts[email].sync_epoch += 1

    def fail_next(self, count: int, status: int = 403, reason: str = "rateLimitExceeded") -> None:
        self.api.failures.extend([(status, reason)] * count)

    # push notifications -----------------------------------------------------------------
    async def notify(self, channel_id: str, state: str = "exists") -> int:
        """POST to the channel's address as Google does; returns the receiver's status."""
        channel = self.channels[channel_id]
        channel["messages"] += 1
        expiration = datetime.fromtimestamp(int(channel["expiration"]) / 1000, UTC)
        headers = {
            "X-Goog-Channel-ID": channel["id"],
            "X-Goog-Message-Number": str(channel["messages"]),
            "X-Goog-Resource-ID": channel["resourceId"],
            "X-Goog-Resource-State": state,
            "X-Goog-Resource-URI": channel["resourceUri"],
            "X-Goog-Channel-Expiration": format_datetime(expiration, usegmt=True),
            "Content-Length": "0",
        }
        if channel["token"] is not None:
            headers["X-Goog-Channel-Token"] = channel["token"]
        async with (
            aiohttp.ClientSession() as session,
            session.post(channel["address"], headers=headers, data=b"") as response,
        ):
            return response.status
