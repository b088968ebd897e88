"""The Calendar API v3 through google-api-python-client, off the event loop (K2).

The client is built from the discovery document the library ships (no download), over
httplib2 with google-auth credentials that refresh the access token from the user's
refresh token. Every blocking call runs in a worker thread; rate-limit answers (403
usageLimits reasons, 429) and 5xx are retried here with an asyncio backoff, so a retry
holds no thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from functools import cache
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError

from models.core.errors import msg
from models.core.settings import GoogleSettings
from models.work.calendar_api import (
    AuthorizationRevoked,
    CalendarApiError,
    CalendarEntry,
    Changes,
    Event,
    SyncTokenExpired,
)
from models.work.google_calendar import SCOPE

logger = logging.getLogger(__name__)

RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
PAGE_SIZE = 2500  # the most events.list gives in one page


@cache
def _discovery() -> dict[str, Any]:
    text = get_static_doc("calendar", "v3")
    if not text:
        raise RuntimeError("google-api-python-client ships no Calendar v3 discovery document")
    return dict(json.loads(text))


def _reasons(err: HttpError) -> set[str]:
    details = err.error_details if isinstance(err.error_details, list) else []
    return {str(d.get("reason", "")) for d in details if isinstance(d, dict)}


def _retryable(err: HttpError) -> bool:
    status = err.status_code or 0
    return (
        status == 429
        or status >= 500
        or (status == 403 and bool(_reasons(err) & RATE_LIMIT_REASONS))
    )


class GoogleCalendarApi:
    """One user's Google account (models/work/calendar_api.CalendarApi)."""

    def __init__(self, settings: GoogleSettings, refresh_token: str) -> None:
        self._settings = settings
        credentials = Credentials(
            token=None,
            refresh_token=refresh_token,
            token_uri=settings.token_uri,
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
            scopes=[SCOPE],
        )
        http = google_auth_httplib2.AuthorizedHttp(
            credentials, http=httplib2.Http(timeout=settings.request_timeout_seconds)
        )
        options = {}
        if settings.api_url:
            options["api_endpoint"] = settings.api_url.rstrip("/") + "/calendar/v3/"
        self._service = build_from_document(_discovery(), http=http, client_options=options)
        self.calls = 0

    def __repr__(self) -> str:
        return "GoogleCalendarApi(**********)"

    async def _run(self, make: Callable[[Any], Any]) -> Any:
        """Execute one request in a thread, retrying rate limits and server errors."""
        attempt = 0
        while True:
            self.calls += 1
            try:
                return await asyncio.to_thread(lambda: make(self._service).execute(num_retries=0))
            except HttpError as err:
                if _retryable(err) and attempt < self._settings.retries:
                    wait = self._settings.backoff_seconds * 2**attempt
                    logger.info("Google answered %s: retrying in %.1f s", err.status_code, wait)
                    attempt += 1
                    await asyncio.sleep(wait)
                    continue
                raise _translated(err) from err
            except RefreshError as err:
                raise AuthorizationRevoked(
                    msg("Google no longer accepts this connection: connect the calendar again"),
                    status=401,
                ) from err
            except (TransportError, httplib2.HttpLib2Error, OSError) as err:
                raise CalendarApiError(
                    msg(
                        "Google Calendar could not be reached: %(error)s",
                        error=str(err) or type(err).__name__,
                    )
                ) from err

    async def list_changes(self, calendar_id: str, sync_token: str | None) -> Changes:
        params: dict[str, Any] = {
            "calendarId": calendar_id,
            "singleEvents": True,
            "maxResults": PAGE_SIZE,
        }
        if sync_token:
            params["syncToken"] = sync_token
        else:
            params["showDeleted"] = True
        events: list[Event] = []
        page: str | None = None
        while True:
            args = dict(params, pageToken=page) if page else params
            answer = await self._run(lambda s, a=args: s.events().list(**a))
            events.extend(answer.get("items") or [])
            page = answer.get("nextPageToken")
            if not page:
                return Changes(events, str(answer.get("nextSyncToken") or ""))

    async def insert_event(self, calendar_id: str, body: Event) -> Event:
        return dict(await self._run(lambda s: s.events().insert(calendarId=calendar_id, body=body)))

    async def patch_event(self, calendar_id: str, event_id: str, body: Event) -> Event:
        return dict(
            await self._run(
                lambda s: s.events().patch(calendarId=calendar_id, eventId=event_id, body=body)
            )
        )

    async def delete_event(self, calendar_id: str, event_id: str) -> None:
        try:
            await self._run(lambda s: s.events().delete(calendarId=calendar_id, eventId=event_id))
        except CalendarApiError as err:
            if err.status not in (404, 410):
                raise

    async def list_calendars(self) -> list[CalendarEntry]:
        entries: list[CalendarEntry] = []
        page: str | None = None
        while True:
            answer = await self._run(
                lambda s, p=page: (
                    s.calendarList().list(pageToken=p) if p else s.calendarList().list()
                )
            )
            for item in answer.get("items") or []:
                entries.append(
                    CalendarEntry(
                        id=str(item["id"]),
                        name=str(item.get("summaryOverride") or item.get("summary") or item["id"]),
                        primary=bool(item.get("primary")),
                        writable=item.get("accessRole") in ("owner", "writer"),
                        time_zone=str(item.get("timeZone") or ""),
                    )
                )
            page = answer.get("nextPageToken")
            if not page:
                return entries

    async def watch(
        self, calendar_id: str, channel_id: str, address: str, token: str
    ) -> dict[str, Any]:
        body = {"id": channel_id, "type": "web_hook", "address": address, "token": token}
        return dict(await self._run(lambda s: s.events().watch(calendarId=calendar_id, body=body)))

    async def stop_channel(self, channel_id: str, resource_id: str) -> None:
        body = {"id": channel_id, "resourceId": resource_id}
        await self._run(lambda s: s.channels().stop(body=body))


def _translated(err: HttpError) -> CalendarApiError:
    status = err.status_code or 0
    if status == 410 and (not _reasons(err) or "fullSyncRequired" in _reasons(err)):
        return SyncTokenExpired(msg("Google asked for a full sync"), status=410)
    if status == 401:
        return AuthorizationRevoked(
            msg("Google no longer accepts this connection: connect the calendar again"),
            status=401,
        )
    reason = str(err.reason or "") if hasattr(err, "reason") else ""
    return CalendarApiError(
        msg("Google Calendar answered %(status)s: %(reason)s", status=status, reason=reason),
        status=status,
    )


def api_factory(settings: GoogleSettings) -> Callable[[str], GoogleCalendarApi]:
    """Open a user's calendar from their refresh token (models CalendarApiFactory)."""

    def open_api(refresh_token: str) -> GoogleCalendarApi:
        return GoogleCalendarApi(settings, refresh_token)

    return open_api
