"""Settings -> Google Calendar (G2): each user connects their own Google account, picks one of
its calendars and which way events travel; the status of the sync; Google's push
notifications (NOTIFY_PATH, a machine's call: no session, no CSRF).

The rules live in models/work/google_calendar.py, Google's protocol in daemon/google_calendar
(handed in as services.google_auth and services.google_api); this module reads forms, talks to
those two and shows the page. Every error of Google's becomes a message, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from models.core.errors import ValidationFailed
from models.core.events import CalendarSyncRequested
from models.core.secret_box import SecretUnreadable
from models.schema.calendar_sync import GoogleCalendarLink
from models.work import google_calendar as google
from models.work.calendar_api import CalendarApiError, CalendarEntry
from web import security_headers
from web.keys import HUB, REQ_LANG, SERVICES, SETTINGS
from web.templating import flash, gettext, render, say
from web.views.common import clock, current_user, form_data
from web.views.settings_mail import secret_box

logger = logging.getLogger(__name__)

PAGE = "/settings/google"


def _public_base(request: web.Request) -> str:
    configured = request.app[SETTINGS].web.public_url.rstrip("/")
    return configured or f"{request.scheme}://{request.host}"


def _redirect_uri(request: web.Request) -> str:
    return google.redirect_uri(_public_base(request))


def _is_configured(request: web.Request) -> bool:
    services = request.app[SERVICES]
    return services.google_auth is not None and services.google_api is not None


def _back(request: web.Request, message: str, kind: str = "ok") -> web.HTTPSeeOther:
    flash(request, message, kind)
    return web.HTTPSeeOther(PAGE)


def _sync_now(request: web.Request, user_id: int) -> None:
    request.app[HUB].publish(CalendarSyncRequested(user_id))


async def _calendars(request: web.Request, link: GoogleCalendarLink) -> list[CalendarEntry]:
    """The account's calendars (SecretUnreadable, CalendarApiError)."""
    token = google.refresh_token_of(link, secret_box(request))
    api = request.app[SERVICES].google_api
    assert api is not None
    return await api(token).list_calendars()


async def google_page(
    request: web.Request, *, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    user = current_user(request)
    configured = _is_configured(request)
    link = await google.connection_of(user) if configured else None
    context: dict[str, Any] = {
        "section": "google",
        "configured": configured,
        "public_url": request.app[SETTINGS].web.public_url,
        "redirect_uri": google.redirect_uri(request.app[SETTINGS].web.public_url),
        "link": link,
        "calendars": [],
        "selected": "",
        "calendars_error": "",
        "unreadable": False,
        "errors": errors or {},
        "last_error": google.error_in(link, request.get(REQ_LANG, "es")) if link else "",
    }
    if link is not None:
        try:
            writable = [c for c in await _calendars(request, link) if c.writable]
        except SecretUnreadable:
            context["unreadable"] = True
        except CalendarApiError as err:
            context["calendars_error"] = say(request, err.text)
        else:
            primary = next((c.id for c in writable if c.primary), "")
            context["calendars"] = writable
            context["selected"] = link.calendar_id or primary
    response = render(request, "settings/google_calendar.html", context, status=status)
    return await _with_google_form_action(request, response)


async def _with_google_form_action(request: web.Request, response: web.Response) -> web.Response:
    """The Activate form's answer redirects to Google's consent page: this page's policy lets
    a form go there (browsers check form-action on the redirect too), and nowhere else."""
    auth = request.app[SERVICES].google_auth
    if auth is None:
        return response
    parts = urlsplit(auth.authorization_url(state="", code_challenge="", redirect_uri=""))
    await security_headers.add_security_headers(request, response)
    policy = response.headers["Content-Security-Policy"]
    origin = f"{parts.scheme}://{parts.netloc}"
    response.headers["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )
    return response


async def connect(request: web.Request) -> web.Response:
    user = current_user(request)
    auth = request.app[SERVICES].google_auth
    if auth is None or not _is_configured(request):
        raise _back(request, gettext(request, "Google Calendar is not set up here."), "error")
    state, challenge = await google.start_authorization(user, clock=clock(request))
    url = auth.authorization_url(
        state=state, code_challenge=challenge, redirect_uri=_redirect_uri(request)
    )
    raise web.HTTPFound(url)


async def callback(request: web.Request) -> web.Response:
    """Google sends the browser back here with a code (or an error) and our state."""
    user = current_user(request)
    services = request.app[SERVICES]
    auth, open_api = services.google_auth, services.google_api
    if auth is None or open_api is None:
        raise _back(request, gettext(request, "Google Calendar is not set up here."), "error")
    query = request.query
    try:
        verifier = await google.finish_authorization(
            user, query.get("state", ""), clock=clock(request)
        )
    except ValidationFailed as err:
        text = "; ".join(say(request, m) for m in err.fields.values())
        raise _back(request, text, "error") from None
    if query.get("error") or not query.get("code"):
        reason = query.get("error", "") or gettext(request, "no code")
        raise _back(
            request,
            gettext(request, "Google did not give access (%(reason)s).", reason=reason),
            "error",
        )
    try:
        token = await auth.exchange_code(
            query["code"], code_verifier=verifier, redirect_uri=_redirect_uri(request)
        )
    except CalendarApiError as err:
        raise _back(request, say(request, err.text), "error") from None
    try:
        calendars = await open_api(token).list_calendars()
    except CalendarApiError as err:
        await auth.revoke(token)  # not kept: Google may forget it too
        raise _back(request, say(request, err.text), "error") from None
    email = next((c.id for c in calendars if c.primary), "")
    await google.save_connection(user, token, box=secret_box(request), google_email=email)
    logger.info("user %s connected the Google Calendar of %s", user.id, email)
    _sync_now(request, user.id)
    raise _back(request, gettext(request, "Google Calendar connected. Choose the calendar."))


async def save(request: web.Request) -> web.Response:
    user = current_user(request)
    link = await google.connection_of(user) if _is_configured(request) else None
    if link is None:
        raise _back(request, gettext(request, "Google Calendar is not connected."), "error")
    form = await form_data(request)
    try:
        writable = [c for c in await _calendars(request, link) if c.writable]
    except SecretUnreadable:
        raise _back(request, gettext(request, "Connect Google Calendar again."), "error") from None
    except CalendarApiError as err:
        raise _back(request, say(request, err.text), "error") from None
    calendar_id = str(form.get("calendar_id", ""))
    names = {c.id: c.name for c in writable}
    try:
        await google.choose_calendar(
            link,
            calendar_id,
            names.get(calendar_id, ""),
            push_to_google=form.get("push_to_google") == "1",
            pull_from_google=form.get("pull_from_google") == "1",
            known_ids=list(names),
        )
    except ValidationFailed as err:
        return await google_page(request, errors=dict(err.fields), status=422)
    _sync_now(request, user.id)
    raise _back(request, gettext(request, "Google Calendar settings saved."))


async def sync_now(request: web.Request) -> web.Response:
    user = current_user(request)
    link = await google.connection_of(user)
    if link is None:
        raise _back(request, gettext(request, "Google Calendar is not connected."), "error")
    _sync_now(request, user.id)
    raise _back(request, gettext(request, "Sync requested: the calendar is updated shortly."))


async def disconnect(request: web.Request) -> web.Response:
    """Stop the push channel, revoke the token at Google, forget the connection here."""
    user = current_user(request)
    link = await google.connection_of(user)
    if link is None:
        raise web.HTTPSeeOther(PAGE)
    services = request.app[SERVICES]
    try:
        token = google.refresh_token_of(link, secret_box(request))
    except SecretUnreadable:
        token = ""
    if token and services.google_api is not None and link.channel_id:
        try:
            await services.google_api(token).stop_channel(link.channel_id, link.channel_resource_id)
        except CalendarApiError as err:
            logger.warning("user %s: the push channel was not stopped: %s", user.id, err)
    if token and services.google_auth is not None:
        await services.google_auth.revoke(token)
    await google.forget_connection(link)
    logger.info("user %s disconnected Google Calendar", user.id)
    raise _back(request, gettext(request, "Google Calendar disconnected."))


async def notify(request: web.Request) -> web.Response:
    """A push notification from Google: the channel's calendar changed."""
    headers = request.headers
    if headers.get("X-Goog-Resource-State", "") == "sync":
        return web.Response(status=200)
    user_id = await google.notification_received(
        headers.get("X-Goog-Channel-ID", ""),
        headers.get("X-Goog-Channel-Token", ""),
        clock=clock(request),
    )
    if user_id is None:
        return web.Response(status=404)
    _sync_now(request, user_id)
    return web.Response(status=200)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(PAGE, google_page)
    app.router.add_post(PAGE, save)
    app.router.add_post(PAGE + "/connect", connect)
    app.router.add_get(google.CALLBACK_PATH, callback)
    app.router.add_post(PAGE + "/sync", sync_now)
    app.router.add_post(PAGE + "/disconnect", disconnect)
    app.router.add_post(google.NOTIFY_PATH, notify)
