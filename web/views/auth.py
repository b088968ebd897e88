"""Login, logout, first-run set-up (S1) and accepting an invitation (M2)."""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from aiohttp import web

from models.core.errors import AuthenticationFailed, Conflict, ValidationFailed
from models.people import login_throttle, sessions, team
from models.people import users as user_ops
from models.schema.users import User
from web.keys import LOGIN_POLICY, REQ_LANG, REQ_LOGIN, REQ_SESSION, REQ_USER, SESSIONS
from web.middlewares import SETUP_DONE
from web.security import SESSION_KEY
from web.session_sockets import SESSION_SOCKETS
from web.templating import gettext, render
from web.views.common import form_data, now, safe_next, text_values, users_changed

logger = logging.getLogger(__name__)


async def start_session(request: web.Request, user: User) -> None:
    """Log the browser in: a new server-side session, and a fresh cookie (new CSRF token)."""
    key, login = await sessions.open_session(
        user,
        now(request),
        lifetime=request.app[SESSIONS].lifetime,
        user_agent=request.headers.get("User-Agent", ""),
        address=request.app[LOGIN_POLICY].client_address(request),
    )
    session = request[REQ_SESSION]
    session.clear()
    session[SESSION_KEY] = key
    session.mark()
    request[REQ_LOGIN] = login


def wait_message(request: web.Request, wait: timedelta) -> str:
    """How long to wait before trying again, in the reader's language."""
    seconds = max(2, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return gettext(
            request, "Too many failed attempts. Try again in %(seconds)s seconds.", seconds=seconds
        )
    minutes = math.ceil(seconds / 60)
    if minutes == 1:
        return gettext(request, "Too many failed attempts. Try again in a minute.")
    return gettext(
        request, "Too many failed attempts. Try again in %(minutes)s minutes.", minutes=minutes
    )


def retry_after(wait: timedelta) -> str:
    return str(max(1, math.ceil(wait.total_seconds())))


async def login_page(request: web.Request) -> web.Response:
    if request.get(REQ_USER) is not None:
        raise web.HTTPSeeOther("/")
    context = {"form": {}, "errors": {}, "next": safe_next(request.query.get("next")), "error": ""}
    return render(request, "login.html", context)


async def login(request: web.Request) -> web.Response:
    policy = request.app[LOGIN_POLICY]
    address = policy.client_address(request)
    form = await form_data(request)
    values = text_values(form)
    username = values.get("username", "")
    context = {"form": values, "errors": {}, "next": safe_next(values.get("next")), "error": ""}
    # Counted before the password is checked; refused, unchecked, while a lock holds.
    attempt = await login_throttle.begin_attempt(username, address, now(request), policy.throttle)
    if attempt.refused_for is not None:
        logger.warning("login refused while throttled: %r from %s", username, address)
        context["error"] = wait_message(request, attempt.refused_for)
        response = render(request, "login.html", context, status=429)
        response.headers["Retry-After"] = retry_after(attempt.refused_for)
        return response
    try:
        user = await user_ops.authenticate(username, str(form.get("password", "")))
    except AuthenticationFailed:
        logger.info("failed login for %r from %s", username, address)
        error = gettext(request, "Wrong username or password.")
        if attempt.wait_if_wrong is not None:
            error += " " + wait_message(request, attempt.wait_if_wrong)
        context["error"] = error
        return render(request, "login.html", context, status=401)
    await login_throttle.succeeded(attempt, now(request), policy.throttle)
    await start_session(request, user)
    logger.info("user %s logged in from %s", user.username, address)
    raise web.HTTPSeeOther(str(context["next"]))


async def logout(request: web.Request) -> web.Response:
    session = request[REQ_SESSION]
    key = session.get(SESSION_KEY)
    if isinstance(key, str) and await sessions.end_session(key):
        request.app[SESSION_SOCKETS].check_soon()  # its open pop-up sockets close too
    session.clear()
    session.mark()
    raise web.HTTPSeeOther("/login")


async def setup_page(request: web.Request) -> web.Response:
    if await user_ops.has_admin():
        raise web.HTTPSeeOther("/")
    return render(request, "setup.html", {"form": {}, "errors": {}})


async def setup(request: web.Request) -> web.Response:
    form = await form_data(request)
    values = text_values(form)
    try:
        admin = await user_ops.setup_crm(
            values.get("name", "").strip(),
            values.get("username", "").strip(),
            str(form.get("password", "")),
            values.get("extension", "").strip() or None,
        )
    except ValidationFailed as err:
        return render(request, "setup.html", {"form": values, "errors": err.fields}, status=422)
    except Conflict as err:
        if err.field:
            errors = {err.field: str(err)}
            return render(request, "setup.html", {"form": values, "errors": errors}, status=409)
        raise web.HTTPSeeOther("/login") from None
    admin.language = request[REQ_LANG]
    await admin.save(update_fields=["language"])
    users_changed(request, admin.id)
    request.app[SETUP_DONE]["done"] = True
    await start_session(request, admin)
    raise web.HTTPSeeOther("/")


async def invite_page(request: web.Request) -> web.Response:
    invite = await team.open_invite(request.match_info["token"], now(request))
    return render(request, "invite.html", {"invite": invite, "form": {}, "errors": {}})


async def accept_invite(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    invite = await team.open_invite(token, now(request))
    form = await form_data(request)
    values = text_values(form)
    try:
        user = await team.accept_invite(
            token,
            now(request),
            username=values.get("username", ""),
            password=str(form.get("password", "")),
            full_name=values.get("full_name", ""),
            language=request[REQ_LANG],
        )
    except (ValidationFailed, Conflict) as err:
        errors = (
            err.fields if isinstance(err, ValidationFailed) else {err.field or "username": str(err)}
        )
        context = {"invite": invite, "form": values, "errors": errors}
        return render(request, "invite.html", context, status=422)
    users_changed(request, user.id)
    await start_session(request, user)
    raise web.HTTPSeeOther("/")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/setup", setup_page)
    app.router.add_post("/setup", setup)
    app.router.add_get("/invite/{token}", invite_page)
    app.router.add_post("/invite/{token}", accept_invite)
