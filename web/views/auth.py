"""Login, logout, first-run set-up (S1) and accepting an invitation (M2)."""

from __future__ import annotations

import logging

from aiohttp import web

from models.core.errors import AuthenticationFailed, Conflict, ValidationFailed
from models.people import team
from models.people import users as user_ops
from models.schema.users import User
from web.keys import LOGIN_LIMITER, REQ_LANG, REQ_SESSION, REQ_USER
from web.middlewares import SETUP_DONE
from web.security import password_mark
from web.templating import gettext, render
from web.views.common import form_data, now, safe_next, text_values, users_changed

logger = logging.getLogger(__name__)


def start_session(request: web.Request, user: User) -> None:
    session = request[REQ_SESSION]
    session.clear()  # a fresh session (and CSRF token) at each login
    session["uid"] = user.id
    session["pw"] = password_mark(user.password_hash)
    session.mark()


async def login_page(request: web.Request) -> web.Response:
    if request.get(REQ_USER) is not None:
        raise web.HTTPSeeOther("/")
    context = {"form": {}, "errors": {}, "next": safe_next(request.query.get("next")), "error": ""}
    return render(request, "login.html", context)


async def login(request: web.Request) -> web.Response:
    limiter = request.app[LOGIN_LIMITER]
    address = request.remote or "unknown"
    form = await form_data(request)
    values = text_values(form)
    context = {"form": values, "errors": {}, "next": safe_next(values.get("next")), "error": ""}
    if limiter.is_blocked(address, now(request)):
        wait = limiter.retry_after(address, now(request))
        logger.warning("login rate limit reached for %s", address)
        context["error"] = gettext(
            request, "Too many failed attempts. Try again in %(seconds)s seconds.", seconds=wait
        )
        response = render(request, "login.html", context, status=429)
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        user = await user_ops.authenticate(
            values.get("username", ""), str(form.get("password", ""))
        )
    except AuthenticationFailed:
        limiter.failed(address, now(request))
        logger.info("failed login for %r from %s", values.get("username", ""), address)
        context["error"] = gettext(request, "Wrong username or password.")
        return render(request, "login.html", context, status=401)
    limiter.succeeded(address)
    start_session(request, user)
    logger.info("user %s logged in from %s", user.username, address)
    raise web.HTTPSeeOther(str(context["next"]))


async def logout(request: web.Request) -> web.Response:
    session = request[REQ_SESSION]
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
    start_session(request, admin)
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
    start_session(request, user)
    raise web.HTTPSeeOther("/")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/setup", setup_page)
    app.router.add_post("/setup", setup)
    app.router.add_get("/invite/{token}", invite_page)
    app.router.add_post("/invite/{token}", accept_invite)
