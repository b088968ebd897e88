"""What every request goes through: errors to pages, the session, login, set-up and CSRF.

Who is logged in is the server's answer, not the cookie's: the cookie carries the key of a
session kept in the database (models/people/sessions.py), looked up on every request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from models.core.db import is_database_busy
from models.core.errors import CrmError, NotFound, PermissionDenied, ValidationFailed
from models.core.translation import set_reader_language
from models.people import sessions
from models.people import users as user_ops
from models.work.google_calendar import NOTIFY_PATH
from web.api.problems import refusal
from web.i18n import pick_language
from web.keys import CLOCK, REQ_LANG, REQ_LOGIN, REQ_SESSION, REQ_USER, SESSIONS, SETTINGS
from web.security import COOKIE_NAME, SAFE_METHODS, SESSION_KEY, check_csrf
from web.templating import gettext, render, say

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Paths that need no login (the setup page is reachable only while no admin exists).
PUBLIC_PREFIXES = ("/static/", "/healthz", "/login", "/setup", "/invite/")
SETUP_DONE = web.AppKey("setup_done", dict)
# Called by machines with their own shared secret, not by a browser: no session, no CSRF.
# Google Calendar's push notifications carry their channel's token (settings_google.notify).
MACHINE_PATHS = ("/api/sms/status", NOTIFY_PATH)
# The public API (web/api, issue 18): each call carries its own Bearer token, checked by the
# API itself; a cookie is never enough there, so no session login and no CSRF either.
TOKEN_PREFIX = "/api/v1/"


def _wants_json(request: web.Request) -> bool:
    return (
        request.path.startswith("/api/")
        or "application/json" in request.headers.get("Accept", "")
        # A websocket handshake cannot follow a redirect to the login page: it gets a 401.
        or request.headers.get("Upgrade", "").lower() == "websocket"
    )


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    if request.path.startswith(TOKEN_PREFIX):
        return refusal(request, status, message)  # RFC 9457, as every answer of the API
    if _wants_json(request):
        return web.json_response({"error": message}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain errors and HTTP errors become proper pages (or JSON for fetch calls)."""
    try:
        return await handler(request)
    except PermissionDenied as err:
        # The domain's messages (models/locale) read in the user's language.
        message = say(request, err.args[0]) if err.args else gettext(request, "Access denied")
        return error_page(request, 403, message)
    except NotFound:
        return error_page(request, 404, gettext(request, "This page does not exist."))
    except ValidationFailed as err:
        fields = {name: say(request, text) for name, text in err.fields.items()}
        text = "; ".join(f"{name}: {message}" for name, message in fields.items())
        if _wants_json(request):
            return web.json_response({"error": text, "fields": fields}, status=422)
        return error_page(request, 422, text)
    except CrmError as err:
        return error_page(request, 409, say(request, err.args[0]) if err.args else "")
    except web.HTTPNotFound:
        return error_page(request, 404, gettext(request, "This page does not exist."))
    except web.HTTPForbidden:
        # aiohttp's own text ("403: Forbidden") is English: the page says it in the reader's.
        return error_page(request, 403, gettext(request, "Access denied"))
    except web.HTTPRequestEntityTooLarge:
        return error_page(request, 413, gettext(request, "The upload is too large."))
    except web.HTTPMethodNotAllowed as err:
        if not request.path.startswith(TOKEN_PREFIX):
            raise
        allowed = ", ".join(sorted(err.allowed_methods))
        return refusal(request, 405, gettext(request, "Allowed here: %(methods)s", methods=allowed))
    except web.HTTPException:
        raise  # redirects and the other answers aiohttp makes itself
    except Exception as err:  # never a traceback or aiohttp's English 500 to the user
        return _failure_page(request, err)


def _failure_page(request: web.Request, err: Exception) -> web.Response:
    """A database that does not answer (a restart, an overloaded server): 503, try again;
    anything else is a bug: logged with its traceback, a plain 500 page."""
    api = request.path.startswith(TOKEN_PREFIX)
    if is_database_busy(err):
        logger.warning("%s %s: the database did not answer: %s", request.method, request.path, err)
        text = gettext(request, "The database is busy right now: try again in a moment.")
        response = refusal(request, 503, text) if api else error_page(request, 503, text)
        response.headers["Retry-After"] = "5"
        return response
    logger.error("%s %s failed", request.method, request.path, exc_info=err)
    text = gettext(request, "Something went wrong on our side. It was logged: try again.")
    return refusal(request, 500, text) if api else error_page(request, 500, text)


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    codec = request.app[SESSIONS]
    now = request.app[CLOCK].now()
    session = codec.loads(request.cookies.get(COOKIE_NAME), now)
    request[REQ_SESSION] = session
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if session.changed:
            codec.write(exc, session, now)
        raise
    if session.changed and not response.prepared:
        codec.write(response, session, now)
    return response


def _is_bot_webhook(request: web.Request) -> bool:
    """Telegram posting an update in webhook mode: a machine, with no session nor CSRF."""
    telegram = request.app[SETTINGS].telegram
    return telegram.mode == "webhook" and request.path == telegram.webhook_path


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Loads the user, sends everyone to /setup until an admin exists, checks CSRF."""
    session = request[REQ_SESSION]
    request[REQ_LANG] = pick_language(request.headers.get("Accept-Language"))
    path = request.path
    user = None
    # Static files are public: no session lookup for each of them. ("uid": a cookie from
    # before sessions were kept on the server, which logs nobody in any more.)
    if (SESSION_KEY in session or "uid" in session) and not path.startswith("/static/"):
        codec = request.app[SESSIONS]
        key = session.get(SESSION_KEY)
        login = (
            await sessions.resolve(key, request.app[CLOCK].now(), lifetime=codec.lifetime)
            if isinstance(key, str)
            else None
        )
        if login is None:  # logged out, expired, deactivated, or ended elsewhere
            session.clear()
            session.mark()
        else:
            user = login.user
            request[REQ_LOGIN] = login
            request[REQ_USER] = user
            request[REQ_LANG] = user.language or request[REQ_LANG]
    # What the domain says while serving this request reads in the reader's language; set on
    # every request, so a value left by the previous request of a connection never lingers.
    set_reader_language(request[REQ_LANG])
    if path.startswith(TOKEN_PREFIX):
        request.pop(REQ_USER, None)  # a browser's session cookie does not act on the API
        return await handler(request)
    if path.startswith("/static/") or path == "/healthz" or path in MACHINE_PATHS:
        return await handler(request)
    if _is_bot_webhook(request):  # Telegram's updates: bot/webhook.py checks their secret
        return await handler(request)
    state = request.app[SETUP_DONE]
    if not state.get("done"):
        state["done"] = await user_ops.has_admin()
    if not state["done"] and not path.startswith("/setup"):
        raise web.HTTPSeeOther("/setup")
    if request.method not in SAFE_METHODS and not await check_csrf(request, session):
        logger.warning("CSRF check failed for %s %s from %s", request.method, path, request.remote)
        return error_page(
            request, 403, gettext(request, "The form expired. Reload the page and try again.")
        )
    if user is None and not path.startswith(PUBLIC_PREFIXES):
        if _wants_json(request):
            return web.json_response({"error": gettext(request, "Log in first.")}, status=401)
        target = request.path_qs if request.method == "GET" else "/"
        raise web.HTTPSeeOther(f"/login?next={quote(target)}")
    return await handler(request)
