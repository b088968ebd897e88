"""The fake Google against the real google-api-python-client and google-auth.

What the calendar sync will rely on is checked the way the real client sees it: the OAuth code
exchange and refresh, event writes, paging that ends in a sync token, incremental syncs, the
410 that forces a full sync, rate limits, recurring series, and push notifications.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import google_auth_httplib2
import httplib2
import pytest
from aiohttp import web
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from tests.fakes.google_calendar import FakeGoogle

ANA = "ana@example.com"
LUIS = "luis@example.com"
SCOPE = "https://www.googleapis.com/auth/calendar"
REDIRECT = "http://127.0.0.1:9/oauth/callback"
MEETING = {
    "summary": "Demo for Acme",
    "start": {"dateTime": "2026-03-02T10:00:00+01:00", "timeZone": "Europe/Madrid"},
    "end": {"dateTime": "2026-03-02T11:00:00+01:00", "timeZone": "Europe/Madrid"},
}


@pytest.fixture
async def google() -> AsyncIterator[FakeGoogle]:
    async with FakeGoogle() as fake:
        fake.add_account(ANA, calendars=["Sales"])
        fake.add_account(LUIS)
        yield fake


def credentials(google: FakeGoogle, refresh_token: str) -> Credentials:
    return Credentials(
        token=None,
        refresh_token=refresh_token,
        token_uri=google.token_uri,
        client_id=google.client_id,
        client_secret=google.client_secret,
    )


async def calendar_service(google: FakeGoogle, email: str = ANA) -> Any:
    http = google_auth_httplib2.AuthorizedHttp(
        credentials(google, google.issue_refresh_token(email)), http=httplib2.Http()
    )
    return await asyncio.to_thread(
        build,
        "calendar",
        "v3",
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": google.base_url + "/calendar/v3/"},
    )


async def run(request: Any) -> Any:
    return await asyncio.to_thread(request.execute, num_retries=0)


async def full_sync(service: Any, **params: Any) -> tuple[list[dict], str]:
    items, token = [], None
    while True:
        page = await run(service.events().list(calendarId="primary", pageToken=token, **params))
        items += page["items"]
        token = page.get("nextPageToken")
        if token is None:
            return items, page["nextSyncToken"]


def reason_of(err: HttpError) -> str:
    return err.error_details[0]["reason"]


# OAuth ------------------------------------------------------------------------------------
async def consent(session: aiohttp.ClientSession, google: FakeGoogle, decision: str, **extra):
    """What a browser does: open the consent page, pick Ana, press a button."""
    query = {
        "client_id": google.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": SCOPE,
        "state": "xyz-1",
        "access_type": "offline",
        "prompt": "consent",
        **extra,
    }
    async with session.get(google.auth_uri, params=query) as page:
        assert page.status == 200
        html = await page.text()
    assert ANA in html and LUIS in html
    assert 'id="allow"' in html.replace("'", '"') and ">Deny<" in html
    form = dict(re.findall(r"type='hidden' name='(\w+)' value='([^']*)'", html))
    form.update(account=ANA, decision=decision)
    approve = google.base_url + "/o/oauth2/v2/approve"
    async with session.post(approve, data=form, allow_redirects=False) as answer:
        assert answer.status == 302
        location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def test_code_exchange_then_the_client_refreshes_on_its_own(google):
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode()
    async with aiohttp.ClientSession() as session:
        back = await consent(
            session,
            google,
            "allow",
            code_challenge=challenge.rstrip("="),
            code_challenge_method="S256",
        )
        assert back["state"] == "xyz-1" and back["scope"] == SCOPE
        exchange = {
            "grant_type": "authorization_code",
            "code": back["code"],
            "redirect_uri": REDIRECT,
            "client_id": google.client_id,
            "client_secret": google.client_secret,
            "code_verifier": verifier,
        }
        async with session.post(google.token_uri, data=exchange) as answer:
            tokens = await answer.json()
        assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
        assert tokens["scope"] == SCOPE and tokens["refresh_token"]
        async with session.post(google.token_uri, data=exchange) as again:
            assert again.status == 400
            assert (await again.json())["error"] == "invalid_grant"
        denied = await consent(session, google, "deny")
        assert denied == {"error": "access_denied", "state": "xyz-1"}
        async with session.get(google.auth_uri, params={"client_id": "stranger"}) as page:
            assert page.status == 400

    http = google_auth_httplib2.AuthorizedHttp(
        credentials(google, tokens["refresh_token"]), http=httplib2.Http()
    )
    service = await asyncio.to_thread(
        build,
        "calendar",
        "v3",
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": google.base_url + "/calendar/v3/"},
    )
    listed = await run(service.calendarList().list())
    assert [(c["id"], c.get("primary", False)) for c in listed["items"]] == [
        (ANA, True),
        ("sales@group.calendar.google.com", False),
    ]
    google.expire_access_tokens()
    assert (await run(service.calendarList().get(calendarId="primary")))["summary"] == ANA


async def test_the_token_endpoint_refuses_what_google_refuses(google):
    async def post(form: dict[str, str]) -> tuple[int, str]:
        form = {"client_id": google.client_id, "client_secret": google.client_secret, **form}
        async with session.post(google.token_uri, data=form) as answer:
            return answer.status, (await answer.json())["error"]

    async with aiohttp.ClientSession() as session:
        wrong_secret = {"grant_type": "refresh_token", "client_secret": "guess"}
        assert await post(wrong_secret) == (401, "invalid_client")
        unknown = {"grant_type": "refresh_token", "refresh_token": "1//0made-up"}
        assert await post(unknown) == (400, "invalid_grant")
        assert await post({"grant_type": "password"}) == (400, "unsupported_grant_type")
        back = await consent(session, google, "allow")
        elsewhere = {
            "grant_type": "authorization_code",
            "code": back["code"],
            "redirect_uri": "http://127.0.0.1:9/other",
        }
        assert await post(elsewhere) == (400, "redirect_uri_mismatch")
        back = await consent(session, google, "allow", code_challenge="abc")
        no_verifier = {
            "grant_type": "authorization_code",
            "code": back["code"],
            "redirect_uri": REDIRECT,
        }
        assert await post(no_verifier) == (400, "invalid_grant")


async def test_a_revoked_grant_stops_working(google):
    service = await calendar_service(google)
    await run(service.calendarList().list())
    refresh_token = service._http.credentials.refresh_token
    async with aiohttp.ClientSession() as session:
        async with session.post(google.revoke_uri, data={"token": refresh_token}) as answer:
            assert answer.status == 200
    assert refresh_token in google.revoked_tokens
    with pytest.raises(RefreshError, match="invalid_grant"):
        await run(service.calendarList().list())


async def test_an_api_call_without_a_token_is_refused_as_google_does(google):
    async with aiohttp.ClientSession() as session:
        url = google.base_url + "/calendar/v3/users/me/calendarList"
        async with session.get(url) as answer:
            assert answer.status == 401
            error = (await answer.json())["error"]
    assert error["code"] == 401 and error["status"] == "UNAUTHENTICATED"
    assert error["errors"][0]["reason"] == "required"
    assert google.api_calls == [("GET", "/calendar/v3/users/me/calendarList")]


# events ------------------------------------------------------------------------------------
async def test_insert_get_patch_delete(google):
    service = await calendar_service(google)
    body = {
        **MEETING,
        "description": "Bring the price list",
        "extendedProperties": {"private": {"centralita_id": "42"}},
        "attendees": [{"email": "client@acme.test"}],
    }
    made = await run(service.events().insert(calendarId="primary", body=body))
    assert re.fullmatch(r"[a-v0-9]{26}", made["id"])
    assert made["iCalUID"] == made["id"] + "@google.com" and made["status"] == "confirmed"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", made["updated"])
    assert made["organizer"] == {"email": ANA, "self": True}
    got = await run(service.events().get(calendarId=ANA, eventId=made["id"]))
    assert got == made
    patched = await run(
        service.events().patch(
            calendarId="primary", eventId=made["id"], body={"location": "Sala 2"}
        )
    )
    assert patched["location"] == "Sala 2" and patched["etag"] != made["etag"]
    assert patched["extendedProperties"] == {"private": {"centralita_id": "42"}}
    assert patched["attendees"] == [{"email": "client@acme.test"}]
    await run(service.events().delete(calendarId="primary", eventId=made["id"]))
    assert google.events(ANA, ANA)[0]["status"] == "cancelled"
    with pytest.raises(HttpError) as gone:
        await run(service.events().delete(calendarId="primary", eventId=made["id"]))
    assert gone.value.status_code == 410 and reason_of(gone.value) == "deleted"
    with pytest.raises(HttpError) as missing:
        await run(service.events().get(calendarId="primary", eventId="nosuchevent"))
    assert missing.value.status_code == 404 and reason_of(missing.value) == "notFound"
    with pytest.raises(HttpError) as no_end:
        await run(service.events().insert(calendarId="primary", body={"start": MEETING["start"]}))
    assert no_end.value.status_code == 400


async def test_pages_end_with_a_sync_token_and_a_sync_returns_only_changes(google):
    ids = [
        google.insert_event(ANA, ANA, {**MEETING, "summary": f"Call {n}"})["id"] for n in range(5)
    ]
    service = await calendar_service(google)
    google.api_calls.clear()
    pages = []
    token = None
    while True:
        page = await run(service.events().list(calendarId="primary", maxResults=2, pageToken=token))
        pages.append(page)
        token = page.get("nextPageToken")
        if token is None:
            break
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert ["nextSyncToken" in p for p in pages] == [False, False, True]
    assert [e["id"] for p in pages for e in p["items"]] == ids
    assert google.api_calls == [("GET", "/calendar/v3/calendars/primary/events")] * 3
    sync_token = pages[-1]["nextSyncToken"]

    google.patch_event(ANA, ANA, ids[1], {"summary": "Call 1, moved"})
    changed = await run(service.events().list(calendarId="primary", syncToken=sync_token))
    assert [e["summary"] for e in changed["items"]] == ["Call 1, moved"]
    google.delete_event(ANA, ANA, ids[3])
    deleted = await run(
        service.events().list(calendarId="primary", syncToken=changed["nextSyncToken"])
    )
    assert deleted["items"] == [
        {
            "kind": "calendar#event",
            "etag": deleted["items"][0]["etag"],
            "id": ids[3],
            "status": "cancelled",
        }
    ]
    quiet = await run(
        service.events().list(calendarId="primary", syncToken=deleted["nextSyncToken"])
    )
    assert quiet["items"] == []
    everything, _ = await full_sync(service)
    assert ids[3] not in [e["id"] for e in everything]

    google.invalidate_sync_tokens(ANA)
    with pytest.raises(HttpError) as stale:
        await run(service.events().list(calendarId="primary", syncToken=quiet["nextSyncToken"]))
    assert stale.value.status_code == 410 and reason_of(stale.value) == "fullSyncRequired"
    with pytest.raises(HttpError) as mixed:
        await run(
            service.events().list(
                calendarId="primary",
                syncToken=quiet["nextSyncToken"],
                timeMin="2026-01-01T00:00:00Z",
            )
        )
    assert mixed.value.status_code == 400


async def test_a_rate_limit_answers_once_then_calls_go_through(google):
    service = await calendar_service(google)
    google.fail_next(1)
    with pytest.raises(HttpError) as limited:
        await run(service.events().list(calendarId="primary"))
    assert limited.value.status_code == 403
    assert limited.value.error_details[0] == {
        "domain": "usageLimits",
        "reason": "rateLimitExceeded",
        "message": "Rate Limit Exceeded",
    }
    google.fail_next(1, status=429)
    with pytest.raises(HttpError) as too_many:
        await run(service.events().list(calendarId="primary"))
    assert too_many.value.status_code == 429
    assert (await run(service.events().list(calendarId="primary")))["items"] == []


async def test_a_weekly_series_unfolds_into_instances(google):
    service = await calendar_service(google)
    series = await run(
        service.events().insert(
            calendarId="primary",
            body={
                "summary": "Team sync",
                "start": {"dateTime": "2026-01-05T09:00:00+01:00", "timeZone": "Europe/Madrid"},
                "end": {"dateTime": "2026-01-05T09:30:00+01:00", "timeZone": "Europe/Madrid"},
                "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=MO"],
            },
        )
    )
    instances, sync_token = await full_sync(service, singleEvents=True, orderBy="startTime")
    master = series["id"]
    assert [e["id"] for e in instances] == [
        f"{master}_20260105T080000Z",
        f"{master}_20260112T080000Z",
        f"{master}_20260119T080000Z",
        f"{master}_20260126T080000Z",
    ]
    assert all(e["recurringEventId"] == master and "recurrence" not in e for e in instances)
    assert instances[1]["originalStartTime"]["dateTime"].startswith("2026-01-12T09:00:00")

    moved = await run(
        service.events().patch(
            calendarId="primary", eventId=instances[1]["id"], body={"summary": "Team sync (Q1)"}
        )
    )
    assert moved["recurringEventId"] == master
    changed = await run(
        service.events().list(calendarId="primary", singleEvents=True, syncToken=sync_token)
    )
    assert [(e["id"], e["summary"]) for e in changed["items"]] == [
        (instances[1]["id"], "Team sync (Q1)")
    ]
    await run(service.events().delete(calendarId="primary", eventId=instances[2]["id"]))
    listed = await run(
        service.events().instances(calendarId="primary", eventId=master, showDeleted=True)
    )
    assert [e["status"] for e in listed["items"]] == [
        "confirmed",
        "confirmed",
        "cancelled",
        "confirmed",
    ]
    google.patch_event(ANA, ANA, master, {"location": "Sala 1"})
    everything = await run(
        service.events().list(
            calendarId="primary", singleEvents=True, syncToken=changed["nextSyncToken"]
        )
    )
    assert len(everything["items"]) == 4


async def test_an_endless_series_unfolds_two_years_ahead_at_most(google):
    service = await calendar_service(google)
    now = datetime.now(UTC).replace(microsecond=0)
    start = {"dateTime": now.isoformat()}
    end = {"dateTime": (now + timedelta(hours=1)).isoformat()}
    body = {"summary": "Stand-up", "start": start, "end": end, "recurrence": ["RRULE:FREQ=DAILY"]}
    series = await run(service.events().insert(calendarId="primary", body=body))
    week = await run(
        service.events().instances(
            calendarId="primary",
            eventId=series["id"],
            timeMin=(now - timedelta(minutes=1)).isoformat(),
            timeMax=(now + timedelta(days=7)).isoformat(),
        )
    )
    assert len(week["items"]) == 7
    everything, _ = await full_sync(service, singleEvents=True, maxResults=2500)
    assert 729 <= len(everything) <= 731


async def test_an_invitation_is_the_same_event_in_two_calendars(google):
    mine = google.insert_event(ANA, "primary", MEETING)
    theirs = google.insert_event(LUIS, LUIS, {**MEETING, "iCalUID": mine["iCalUID"]})
    assert theirs["iCalUID"] == mine["iCalUID"] and theirs["id"] != mine["id"]
    service = await calendar_service(google, LUIS)
    found = await run(service.events().list(calendarId="primary", iCalUID=mine["iCalUID"]))
    assert [e["id"] for e in found["items"]] == [theirs["id"]]


# push notifications ------------------------------------------------------------------------
async def test_watch_then_notify_reaches_the_webhook(google):
    received: list[dict[str, str]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append(dict(request.headers))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/google/push", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    address = f"http://127.0.0.1:{runner.addresses[0][1]}/google/push"
    try:
        service = await calendar_service(google)
        channel = await run(
            service.events().watch(
                calendarId="primary",
                body={"id": "chan-1", "type": "web_hook", "address": address, "token": "t0k"},
            )
        )
        assert channel["kind"] == "api#channel" and channel["id"] == "chan-1"
        assert channel["token"] == "t0k" and channel["expiration"].isdigit()
        assert google.channels["chan-1"]["calendar_id"] == ANA
        assert await google.notify("chan-1", "sync") == 200
        assert await google.notify("chan-1") == 200
        assert [h["X-Goog-Resource-State"] for h in received] == ["sync", "exists"]
        assert [h["X-Goog-Message-Number"] for h in received] == ["1", "2"]
        last = received[-1]
        assert last["X-Goog-Channel-ID"] == "chan-1" and last["X-Goog-Channel-Token"] == "t0k"
        assert last["X-Goog-Resource-ID"] == channel["resourceId"]
        assert last["X-Goog-Resource-URI"] == channel["resourceUri"]
        assert last["X-Goog-Channel-Expiration"].endswith(" GMT")
        stop = {"id": "chan-1", "resourceId": channel["resourceId"]}
        await run(service.channels().stop(body=stop))
        assert google.channels == {}
        with pytest.raises(HttpError) as unknown:
            await run(service.channels().stop(body=stop))
        assert unknown.value.status_code == 404
    finally:
        await runner.cleanup()
