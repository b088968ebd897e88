"""Settings -> Google Calendar through the real app, with the daemon's real Google adapters
(daemon/google_calendar: OAuth over aiohttp, the Calendar API through google-api-python-client)
pointed at the local fake Google (tests/fakes/google_calendar.py): the page when Google is not
set up, connecting (state, PKCE S256 challenge, the consent answered as Google answers it),
refused and failed callbacks storing nothing, the sealed token, choosing the calendar, sync now,
disconnecting (channel stopped, token revoked), push notifications, Spanish and English, and
one user's connection out of another's reach."""

from __future__ import annotations

import base64
import hashlib
import re
import socket
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from cryptography.fernet import Fernet
from pydantic import SecretStr
from tortoise import connections

from daemon.google_calendar.api import api_factory
from daemon.google_calendar.oauth import GoogleOAuth
from models.core.errors import msg
from models.core.events import CalendarSyncRequested
from models.core.secret_box import SecretBox
from models.core.settings import GoogleSettings
from models.schema.calendar_sync import GoogleCalendarLink, GoogleOAuthState
from models.schema.users import User
from models.work import google_calendar as google_ops
from tests.fakes.google_calendar import FakeGoogle
from tests.web.conftest import Server, csrf_from, http_login, web_settings
from web.app import create_app
from web.keys import CLOCK
from web.services import WebServices

ANA_GOOGLE = "ana.garcia@example.com"
LUIS_GOOGLE = "luis.perez@example.com"
SALES_ID = "sales@group.calendar.google.com"
PAGE = "/settings/google"


def google_settings(fake: FakeGoogle) -> GoogleSettings:
    return GoogleSettings(
        client_id=fake.client_id,
        client_secret=SecretStr(fake.client_secret),
        auth_uri=fake.auth_uri,
        token_uri=fake.token_uri,
        revoke_uri=fake.revoke_uri,
        api_url=fake.base_url,
        retries=0,
        request_timeout_seconds=10,
    )


class GoogleServer(Server):
    box: SecretBox


async def start_google_server(hub, clock, tmp_path, fake: FakeGoogle | None):
    """The panel on a socket bound first, so that [web] public_url is its own address; with
    the daemon's Google adapters when `fake` is given, without Google otherwise."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = web_settings(tmp_path, public_url=url)
    box = SecretBox(Fernet.generate_key())
    services = WebServices(secret_box=box)
    if fake is not None:
        options = google_settings(fake)
        settings = settings.model_copy(update={"google": options})
        services.google_auth = GoogleOAuth(options)
        services.google_api = api_factory(options)
    app = create_app(settings, hub=hub, clock=clock, services=services)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    server = GoogleServer(url, app, settings)
    server.box = box
    return runner, server


@pytest.fixture
async def fake_google():
    async with FakeGoogle() as fake:
        fake.add_account(ANA_GOOGLE, calendars=["Sales"])
        fake.add_account(LUIS_GOOGLE)
        yield fake


@pytest.fixture
async def srv(world, hub, clock, tmp_path, fake_google):
    await User.all().update(language="en")
    runner, server = await start_google_server(hub, clock, tmp_path, fake_google)
    yield server
    await runner.cleanup()


@pytest.fixture
async def requested(hub):
    """The CalendarSyncRequested events the panel publishes (read after hub.drain())."""
    seen: list[CalendarSyncRequested] = []

    async def keep(event: CalendarSyncRequested) -> None:
        seen.append(event)

    hub.subscribe("test-google-sync", keep, CalendarSyncRequested)
    return seen


async def get(http, url):
    async with http.get(url) as resp:
        return resp.status, await resp.text()


async def post(http, server, path, data=(), page=PAGE):
    _status, html = await get(http, server.url + page)
    fields = [*data, ("csrf_token", csrf_from(html))]
    async with http.post(server.url + path, data=fields, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", "")


async def consent(http, authorization_url: str, email: str, decision: str = "allow") -> str:
    """Google's consent page answered as a browser would: the callback address it sends to."""
    async with http.get(authorization_url) as resp:
        assert resp.status == 200, await resp.text()
        html = await resp.text()
    fields = dict(re.findall(r"<input type='hidden' name='(\w+)' value='([^']*)'>", html))
    fields = {key: unescape(value) for key, value in fields.items()}
    action = authorization_url.split("/o/oauth2")[0] + "/o/oauth2/v2/approve"
    async with http.post(
        action, data={**fields, "account": email, "decision": decision}, allow_redirects=False
    ) as resp:
        assert resp.status == 302, await resp.text()
        return resp.headers["Location"]


async def connect(http, server, email: str) -> str:
    """Activate, consent as `email`, follow the callback: the page it lands on."""
    status, location = await post(http, server, PAGE + "/connect")
    assert status == 302, location
    callback = await consent(http, location, email)
    async with http.get(callback, allow_redirects=False) as resp:
        assert (resp.status, resp.headers["Location"]) == (303, PAGE)
    return (await get(http, server.url + PAGE))[1]


async def test_the_page_explains_what_the_administrator_must_set(world, hub, clock, tmp_path, http):
    await User.all().update(language="en")
    runner, server = await start_google_server(hub, clock, tmp_path, None)
    try:
        await http_login(http, server.url, "ana", world.password)
        status, html = await get(http, server.url + "/settings/profile")
        assert 'href="/settings/google"' in html
        status, html = await get(http, server.url + PAGE)
        assert status == 200
        assert "the administrator must set client_id and client_secret" in html
        assert (
            f'<code id="google-redirect-uri">{server.url}/settings/google/callback</code>' in html
        )
        assert "Activate Google Calendar" not in html
        status, location = await post(http, server, PAGE + "/connect")
        assert (status, location) == (303, PAGE)
        assert "Google Calendar is not set up here." in (await get(http, server.url + PAGE))[1]
    finally:
        await runner.cleanup()
    # Without [web] public_url the admin is told to set it; an agent sees no address at all.
    app = create_app(web_settings(tmp_path), hub=hub, clock=clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        http.cookie_jar.clear()
        await http_login(http, url, "ana", world.password)
        html = (await get(http, url + PAGE))[1]
        assert "Set public_url in the [web] section first" in html
        http.cookie_jar.clear()
        await http_login(http, url, "luis", world.password)
        html = (await get(http, url + PAGE))[1]
        assert "the administrator must set client_id" in html
        assert "public_url" not in html and "google-redirect-uri" not in html
    finally:
        await runner.cleanup()


async def test_activate_sends_to_google_with_a_state_and_an_s256_challenge(
    world, srv, http, fake_google
):
    await http_login(http, srv.url, "ana", world.password)
    async with http.get(srv.url + PAGE) as resp:
        assert "Activate Google Calendar" in await resp.text()
        # Browsers check form-action on the redirect too: Google's origin is allowed here.
        policy = resp.headers["Content-Security-Policy"]
        assert f"form-action 'self' {fake_google.base_url};" in policy
    status, location = await post(http, srv, PAGE + "/connect")
    assert status == 302
    parts = urlsplit(location)
    assert location.startswith(srv.settings.google.auth_uri + "?")
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query["redirect_uri"] == srv.url + "/settings/google/callback"
    assert query["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["code_challenge"])
    assert (query["access_type"], query["response_type"]) == ("offline", "code")
    assert len(query["state"]) >= 32
    # The state is kept only as its hash, with the verifier whose S256 is the challenge.
    row = await GoogleOAuthState.get(user_id=world.ana.id)
    assert query["state"] not in row.state_hash
    digest = hashlib.sha256(row.code_verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).decode().rstrip("=") == query["code_challenge"]


async def test_a_refused_or_foreign_state_stores_nothing(world, srv, http, fake_google):
    await http_login(http, srv.url, "ana", world.password)
    _status, location = await post(http, srv, PAGE + "/connect")
    callback = await consent(http, location, ANA_GOOGLE)
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    async with http.get(forged, allow_redirects=False) as resp:
        assert (resp.status, resp.headers["Location"]) == (303, PAGE)
    html = (await get(http, srv.url + PAGE))[1]
    assert "the authorization with Google expired or is not yours: start again" in html
    assert await GoogleCalendarLink.all().count() == 0

    # The consent denied: Google's error, nothing kept.
    _status, location = await post(http, srv, PAGE + "/connect")
    denied = await consent(http, location, ANA_GOOGLE, decision="deny")
    assert "error=access_denied" in denied
    async with http.get(denied, allow_redirects=False) as resp:
        assert resp.status == 303
    assert "Google did not give access (access_denied)." in (await get(http, srv.url + PAGE))[1]

    # A state older than 15 minutes.
    _status, location = await post(http, srv, PAGE + "/connect")
    late = await consent(http, location, ANA_GOOGLE)
    srv.app[CLOCK].advance(minutes=16)
    async with http.get(late, allow_redirects=False) as resp:
        assert resp.status == 303
    assert "expired or is not yours" in (await get(http, srv.url + PAGE))[1]

    # A code Google refuses: its error shown, nothing kept, no 500.
    _status, location = await post(http, srv, PAGE + "/connect")
    fresh = await consent(http, location, ANA_GOOGLE)
    state = parse_qs(urlsplit(fresh).query)["state"][0]
    reused = srv.url + f"/settings/google/callback?code=4/0-no-such-code&state={state}"
    async with http.get(reused, allow_redirects=False) as resp:
        assert resp.status == 303
    assert (
        "Google refused the authorization (invalid_grant)" in (await get(http, srv.url + PAGE))[1]
    )
    assert await GoogleCalendarLink.all().count() == 0


async def test_connecting_keeps_the_token_sealed_and_choosing_a_calendar_syncs(
    world, srv, http, fake_google, hub, requested
):
    await http_login(http, srv.url, "ana", world.password)
    html = await connect(http, srv, ANA_GOOGLE)
    assert "Google Calendar connected. Choose the calendar." in html
    assert f'<strong id="google-account">{ANA_GOOGLE}</strong>' in html
    # Both writable calendars offered, the primary one chosen until another is saved.
    assert f'<option value="{ANA_GOOGLE}" selected>{ANA_GOOGLE}</option>' in html
    assert f'<option value="{SALES_ID}">Sales</option>' in html

    link = await GoogleCalendarLink.get(user_id=world.ana.id)
    assert link.google_email == ANA_GOOGLE
    token = srv.box.open(link.refresh_token_sealed)
    assert token.startswith("1//0")
    rows = await connections.get("default").execute_query_dict('SELECT * FROM "google_calendar"')
    assert len(rows) == 1 and not any(token in str(value) for value in rows[0].values())

    status, location = await post(
        http, srv, PAGE, [("calendar_id", SALES_ID), ("push_to_google", "1")]
    )
    assert (status, location) == (303, PAGE)
    link = await GoogleCalendarLink.get(user_id=world.ana.id)
    assert (link.calendar_id, link.calendar_name) == (SALES_ID, "Sales")
    assert (link.push_to_google, link.pull_from_google) == (True, False)
    html = (await get(http, srv.url + PAGE))[1]
    assert "Google Calendar settings saved." in html
    assert f'<option value="{SALES_ID}" selected>Sales</option>' in html
    assert 'name="pull_from_google" value="1">' in html

    # A calendar that is not the account's is refused by name, nothing changed.
    status, _ = await post(http, srv, PAGE, [("calendar_id", "someone@else.example")])
    assert status == 422
    assert (await GoogleCalendarLink.get(user_id=world.ana.id)).calendar_id == SALES_ID

    status, location = await post(http, srv, PAGE + "/sync")
    assert (status, location) == (303, PAGE)
    assert "Sync requested" in (await get(http, srv.url + PAGE))[1]
    await hub.drain()
    # Connected, saved, and asked: each one a sync of ana's calendar.
    assert requested == [CalendarSyncRequested(world.ana.id)] * 3


async def test_the_page_shows_the_status_and_google_errors_without_failing(
    world, srv, http, fake_google
):
    await http_login(http, srv.url, "ana", world.password)
    await connect(http, srv, ANA_GOOGLE)
    link = await GoogleCalendarLink.get(user_id=world.ana.id)
    link.calendar_id, link.calendar_name = SALES_ID, "Sales"
    link.last_sync_at = srv.app[CLOCK].now() - timedelta(minutes=5)
    link.last_error = "Google Calendar answered 503: busy"
    await link.save()
    fake_google.fail_next(1, status=500, reason="backendError")
    status, html = await get(http, srv.url + PAGE)
    assert status == 200
    assert 'id="google-calendars-error"' in html and "Google Calendar answered 500" in html
    assert "Last sync: " in html and "Google Calendar answered 503: busy" in html
    assert 'name="calendar_id"' not in html

    await GoogleCalendarLink.filter(id=link.id).update(needs_reconnect=True)
    html = (await get(http, srv.url + PAGE))[1]
    assert "Google no longer accepts this connection: connect again." in html
    assert 'id="google-reconnect"' in html and 'id="google-sync"' not in html

    # A token sealed under another key (the installation's key changed): connect again.
    other = SecretBox(Fernet.generate_key())
    await GoogleCalendarLink.filter(id=link.id).update(
        needs_reconnect=False, refresh_token_sealed=other.seal("1//0old")
    )
    status, html = await get(http, srv.url + PAGE)
    assert status == 200 and 'id="google-reconnect"' in html


async def test_push_notifications_ask_for_a_sync_only_with_the_channel_token(
    world, srv, http, fake_google, hub, requested
):
    await http_login(http, srv.url, "ana", world.password)
    await connect(http, srv, ANA_GOOGLE)
    link = await GoogleCalendarLink.get(user_id=world.ana.id)
    token = srv.box.open(link.refresh_token_sealed)
    channel_token, token_hash = google_ops.new_channel_token()
    address = srv.url + google_ops.NOTIFY_PATH
    api = api_factory(srv.settings.google)(token)
    answer = await api.watch(ANA_GOOGLE, "channel-ana-1", address, channel_token)
    expires = srv.app[CLOCK].now() + timedelta(days=7)
    await google_ops.save_channel(link, "channel-ana-1", answer["resourceId"], token_hash, expires)
    await hub.drain()
    requested.clear()

    assert await fake_google.notify("channel-ana-1", "sync") == 200
    assert await fake_google.notify("channel-ana-1", "exists") == 200
    await hub.drain()
    assert requested == [CalendarSyncRequested(world.ana.id)]

    # A wrong token, an unknown channel, no headers at all: 404 with nothing in it.
    wrong = {"X-Goog-Channel-ID": "channel-ana-1", "X-Goog-Channel-Token": "guess"}
    unknown = {"X-Goog-Channel-ID": "channel-x", "X-Goog-Channel-Token": channel_token}
    for headers in (wrong, unknown, {}):
        async with http.post(address, headers={**headers, "X-Goog-Resource-State": "exists"}) as r:
            assert (r.status, await r.read()) == (404, b"")
    await hub.drain()
    assert requested == [CalendarSyncRequested(world.ana.id)]

    # Disconnecting stops the channel at Google, revokes the token and forgets the link.
    status, location = await post(http, srv, PAGE + "/disconnect")
    assert (status, location) == (303, PAGE)
    assert "channel-ana-1" not in fake_google.channels
    assert token in fake_google.revoked_tokens
    assert await GoogleCalendarLink.filter(user_id=world.ana.id).count() == 0
    html = (await get(http, srv.url + PAGE))[1]
    assert "Google Calendar disconnected." in html and "Activate Google Calendar" in html
    async with http.post(address, headers={**wrong, "X-Goog-Channel-Token": channel_token}) as r:
        assert r.status == 404  # the channel is forgotten with the connection


async def test_the_page_speaks_spanish(world, srv, http):
    await User.filter(id=world.ana.id).update(language="es")
    await http_login(http, srv.url, "ana", world.password)
    html = (await get(http, srv.url + PAGE))[1]
    assert "Activar Google Calendar" in html and "Calendario de Google" in html
    html = await connect(http, srv, ANA_GOOGLE)
    assert "Google Calendar conectado. Elige el calendario." in html
    assert "Añadir los eventos futuros del CRM a Google" in html
    assert "Añadir los eventos futuros de Google al CRM" in html
    assert "Sincronizar ahora" not in html  # no calendar chosen yet
    await post(http, srv, PAGE, [("calendar_id", ANA_GOOGLE), ("pull_from_google", "1")])
    html = (await get(http, srv.url + PAGE))[1]
    assert "Sincronizar ahora" in html and "Desconectar" in html
    # The sync's failure, kept in its words, reads in Spanish.
    link = await GoogleCalendarLink.get(user_id=world.ana.id)
    await google_ops.record_failure(
        link,
        msg("Google Calendar answered %(status)s: %(reason)s", status=503, reason="busy"),
        clock=srv.app[CLOCK],
    )
    html = (await get(http, srv.url + PAGE))[1]
    assert "Google Calendar ha respondido 503: busy" in html


async def test_an_agent_cannot_see_or_change_anothers_connection(world, srv, http, fake_google):
    await http_login(http, srv.url, "ana", world.password)
    await connect(http, srv, ANA_GOOGLE)
    _status, location = await post(http, srv, PAGE + "/connect")
    anas_callback = await consent(http, location, ANA_GOOGLE)

    http.cookie_jar.clear()
    await http_login(http, srv.url, "luis", world.password)
    html = (await get(http, srv.url + PAGE))[1]
    assert ANA_GOOGLE not in html and "Activate Google Calendar" in html
    # Ana's callback in luis's session: her state is not his, nothing is stored for him.
    async with http.get(anas_callback, allow_redirects=False) as resp:
        assert resp.status == 303
    assert "expired or is not yours" in (await get(http, srv.url + PAGE))[1]
    for path, data in (
        (PAGE, [("calendar_id", SALES_ID), ("push_to_google", "1")]),
        (PAGE + "/sync", []),
        (PAGE + "/disconnect", []),
    ):
        status, location = await post(http, srv, path, data)
        assert (status, location) == (303, PAGE)
    assert await GoogleCalendarLink.filter(user_id=world.luis.id).count() == 0
    link = await GoogleCalendarLink.get(user_id=world.ana.id)
    assert (link.google_email, link.calendar_id) == (ANA_GOOGLE, "")
    assert not fake_google.revoked_tokens
