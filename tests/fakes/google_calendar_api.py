"""The Calendar API v3 over HTTP, faked: calendarList, events, watch channels.

Every call is recorded in `api_calls` (method, decoded path), failures queued by `fail_next`
are answered after the access token was checked, and errors carry Google's JSON error body.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.fakes.google_calendar_listing import Query, list_events, list_instances
from tests.fakes.google_calendar_oauth import OAuthServer
from tests.fakes.google_calendar_store import ApiError, Calendar, Store, not_found

PREFIX = "/calendar/v3"
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "GONE",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
MESSAGES = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "quotaExceeded": "Calendar usage limits exceeded.",
    "backendError": "Backend Error",
}
WEEK_MS = 7 * 24 * 3600 * 1000
Handler = Callable[[web.Request, str], Awaitable[web.StreamResponse]]


def error_response(err: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    detail = {"domain": err.domain, "reason": err.reason, "message": err.message}
    if err.status == 401:
        detail.update(location="Authorization", locationType="header")
    body = {
        "error": {
            "errors": [detail],
            "code": err.status,
            "message": err.message,
            "status": STATUS_NAMES.get(err.status, "UNKNOWN"),
        }
    }
    return web.json_response(body, status=err.status, headers=headers)


class CalendarApi:
    """The handlers, with the state tests look at: calls made, queued failures, channels."""

    def __init__(self, store: Store, oauth: OAuthServer) -> None:
        self.store, self.oauth = store, oauth
        self.api_calls: list[tuple[str, str]] = []
        self.failures: list[tuple[int, str]] = []
        self.channels: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}

    def routes(self) -> list[web.RouteDef]:
        events = PREFIX + "/calendars/{calendarId}/events"
        one = events + "/{eventId}"
        return [
            web.get(PREFIX + "/users/me/calendarList", self._api(self.calendar_list)),
            web.get(PREFIX + "/users/me/calendarList/{calendarId}", self._api(self.calendar_entry)),
            web.get(PREFIX + "/calendars/{calendarId}", self._api(self.calendar_get)),
            web.get(events, self._api(self.list_events)),
            web.post(events, self._api(self.insert, writes=True)),
            web.post(events + "/watch", self._api(self.watch)),
            web.get(one, self._api(self.get)),
            web.patch(one, self._api(self.patch, writes=True)),
            web.put(one, self._api(self.update, writes=True)),
            web.delete(one, self._api(self.delete, writes=True)),
            web.get(one + "/instances", self._api(self.instances)),
            web.post(PREFIX + "/channels/stop", self._api(self.stop_channel)),
        ]

    def _api(self, handler: Handler, *, writes: bool = False) -> Any:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            self.api_calls.append((request.method, request.path))
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return error_response(
                    ApiError(401, "required", "Login Required."), {"WWW-Authenticate": "Bearer"}
                )
            grant = self.oauth.check_access_token(header[7:].strip())
            if grant is None:
                return error_response(
                    ApiError(401, "authError", "Invalid Credentials"),
                    {
                        "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                        'error="invalid_token"'
                    },
                )
            scopes = grant.scope.split()
            allowed = [s for s in scopes if "auth/calendar" in s]
            if not allowed or (writes and all(s.endswith("readonly") for s in allowed)):
                return error_response(
                    ApiError(
                        403,
                        "insufficientPermissions",
                        "Request had insufficient authentication scopes.",
                    )
                )
            if self.failures:
                status, reason = self.failures.pop(0)
                domain = "usageLimits" if status in (403, 429) else "global"
                message = MESSAGES.get(reason, reason)
                return error_response(ApiError(status, reason, message, domain))
            try:
                return await handler(request, grant.email)
            except ApiError as err:
                return error_response(err)

        return wrapped

    def _calendar(self, request: web.Request, email: str) -> Calendar:
        return self.store.calendar(email, request.match_info["calendarId"])

    # calendars --------------------------------------------------------------------------
    def _entry(self, calendar: Calendar) -> dict[str, Any]:
        entry = {
            "kind": "calendar#calendarListEntry",
            "etag": f'"{abs(hash(calendar.id)) % 10**16}"',
            "id": calendar.id,
            "summary": calendar.summary,
            "timeZone": "UTC",
            "colorId": "1",
            "backgroundColor": "#ac725e",
            "foregroundColor": "#1d1d1d",
            "selected": True,
            "accessRole": "owner",
            "defaultReminders": [],
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }
        if calendar.is_primary:
            entry["primary"] = True
        return entry

    async def calendar_list(self, request: web.Request, email: str) -> web.Response:
        calendars = self.store.accounts[email].calendars.values()
        items = [self._entry(calendar) for calendar in calendars]
        page = self._page(request, "calendar#calendarList", items, 100, 250, None)
        return web.json_response(page)

    async def calendar_entry(self, request: web.Request, email: str) -> web.Response:
        return web.json_response(self._entry(self._calendar(request, email)))

    async def calendar_get(self, request: web.Request, email: str) -> web.Response:
        calendar = self._calendar(request, email)
        return web.json_response(
            {
                "kind": "calendar#calendar",
                "etag": self._entry(calendar)["etag"],
                "id": calendar.id,
                "summary": calendar.summary,
                "timeZone": "UTC",
            }
        )

    # paging -----------------------------------------------------------------------------
    def _page(
        self,
        request: web.Request,
        kind: str,
        items: list[dict[str, Any]] | None,
        default: int,
        cap: int,
        envelope: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """One page of `items`; later pages come from the stored remainder of the first."""
        token = request.query.get("pageToken")
        if token:
            if token not in self.pages:
                raise ApiError(400, "invalid", "Invalid page token value.")
            items, envelope = self.pages.pop(token)
        assert items is not None
        try:
            size = min(int(request.query.get("maxResults", default)), cap)
        except ValueError as err:
            raise ApiError(400, "invalid", "Invalid value for: maxResults") from err
        if size < 1:
            raise ApiError(400, "invalid", "Invalid value for: maxResults")
        envelope = dict(envelope or {})
        sync_calendar = envelope.pop("_sync", None)
        answer: dict[str, Any] = {"kind": kind, "etag": f'"p{self.store.counter}"', **envelope}
        answer["items"] = items[:size]
        if len(items) > size:
            next_token = secrets.token_urlsafe(16)
            self.pages[next_token] = (items[size:], {**envelope, "_sync": sync_calendar})
            answer["nextPageToken"] = next_token
        elif sync_calendar is not None:
            calendar, at = sync_calendar
            answer["nextSyncToken"] = self.store.issue_sync_token(calendar, at)
        elif kind == "calendar#calendarList":
            answer["nextSyncToken"] = "C" + secrets.token_urlsafe(16)
        return answer

    def _envelope(self, calendar: Calendar) -> dict[str, Any]:
        return {
            "summary": calendar.summary,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "timeZone": "UTC",
            "accessRole": "owner",
            "defaultReminders": [],
        }

    # events -----------------------------------------------------------------------------
    async def list_events(self, request: web.Request, email: str) -> web.Response:
        calendar = self._calendar(request, email)
        items = envelope = None
        if "pageToken" not in request.query:
            props = {
                kind: request.query.getall(f"{kind}ExtendedProperty", [])
                for kind in ("private", "shared")
            }
            query = Query(request.query, {k: v for k, v in props.items() if v})
            at = self.store.counter
            items = list_events(self.store, calendar, query)
            envelope = {**self._envelope(calendar), "_sync": (calendar, at)}
        return web.json_response(self._page(request, "calendar#events", items, 250, 2500, envelope))

    async def instances(self, request: web.Request, email: str) -> web.Response:
        calendar = self._calendar(request, email)
        items = envelope = None
        if "pageToken" not in request.query:
            master = calendar.events.get(request.match_info["eventId"])
            if master is None:
                raise not_found()
            query = Query({**request.query, "singleEvents": "true"}, {})
            items = list_instances(self.store, calendar, master, query)
            envelope = self._envelope(calendar)
        return web.json_response(self._page(request, "calendar#events", items, 250, 2500, envelope))

    async def insert(self, request: web.Request, email: str) -> web.Response:
        body = await _json(request)
        return web.json_response(self.store.insert(self._calendar(request, email), body))

    async def get(self, request: web.Request, email: str) -> web.Response:
        calendar = self._calendar(request, email)
        return web.json_response(self.store.get(calendar, request.match_info["eventId"]))

    async def patch(self, request: web.Request, email: str) -> web.Response:
        return await self._change(request, email, replace=False)

    async def update(self, request: web.Request, email: str) -> web.Response:
        return await self._change(request, email, replace=True)

    async def _change(self, request: web.Request, email: str, *, replace: bool) -> web.Response:
        calendar = self._calendar(request, email)
        body = await _json(request)
        event_id = request.match_info["eventId"]
        return web.json_response(self.store.change(calendar, event_id, body, replace=replace))

    async def delete(self, request: web.Request, email: str) -> web.Response:
        self.store.delete(self._calendar(request, email), request.match_info["eventId"])
        return web.Response(status=204)

    # push notifications -----------------------------------------------------------------
    async def watch(self, request: web.Request, email: str) -> web.Response:
        calendar = self._calendar(request, email)
        body = await _json(request)
        if not body.get("id") or not body.get("address"):
            raise ApiError(400, "required", "Required")
        if body.get("type") not in ("web_hook", "webhook"):
            raise ApiError(400, "invalid", f"Invalid channel type: {body.get('type')}")
        if body["id"] in self.channels:
            raise ApiError(400, "channelIdNotUnique", "Channel id not unique")
        expiration = str(body.get("expiration") or int(time.time() * 1000) + WEEK_MS)
        # Google echoes the calendar id as the request spelled it ("primary", %40...).
        uri = f"{request.url.origin()}{request.raw_path.split('?')[0][: -len('/watch')]}?alt=json"
        self.channels[body["id"]] = {
            "id": body["id"],
            "resourceId": secrets.token_urlsafe(20),
            "resourceUri": uri,
            "address": body["address"],
            "token": body.get("token"),
            "expiration": expiration,
            "email": email,
            "calendar_id": calendar.id,
            "messages": 0,
        }
        channel = self.channels[body["id"]]
        answer = {
            "kind": "api#channel",
            "id": channel["id"],
            "resourceId": channel["resourceId"],
            "resourceUri": uri,
            "expiration": expiration,
        }
        if channel["token"] is not None:
            answer["token"] = channel["token"]
        return web.json_response(answer)

    async def stop_channel(self, request: web.Request, email: str) -> web.Response:
        body = await _json(request)
        channel = self.channels.get(body.get("id", ""))
        if channel is None or channel["resourceId"] != body.get("resourceId"):
            raise ApiError(
                404, "notFound", f"Channel '{body.get('id')}' not found for project '000000000000'"
            )
        del self.channels[channel["id"]]
        return web.Response(status=204)


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ApiError(400, "parseError", "Parse Error") from err
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    return body
