"""The account's security on the profile page: changing the password, the list of open
sessions, ending one of them or every other one (issue 14, item 16)."""

from __future__ import annotations

from aiohttp import web

from models.core.errors import AuthenticationFailed, ValidationFailed
from models.people import login_throttle, sessions
from models.people import users as user_ops
from web.keys import LOGIN_POLICY, REQ_LOGIN, REQ_SESSION
from web.session_sockets import SESSION_SOCKETS
from web.templating import flash, gettext
from web.views.auth import retry_after, wait_message
from web.views.common import current_user, form_data, now, path_id
from web.views.settings_pages import profile_page


async def change_password(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    # The current password is guessed no faster here than on the login page.
    policy = request.app[LOGIN_POLICY]
    attempt = await login_throttle.begin_attempt(
        user.username, policy.client_address(request), now(request), policy.throttle
    )
    if attempt.refused_for is not None:
        errors = {"current_password": wait_message(request, attempt.refused_for)}
        response = await profile_page(request, errors=errors, status=429)
        response.headers["Retry-After"] = retry_after(attempt.refused_for)
        return response
    try:
        await user_ops.authenticate(user.username, str(form.get("current_password", "")))
    except AuthenticationFailed:
        error = gettext(request, "Wrong password.")
        if attempt.wait_if_wrong is not None:
            error += " " + wait_message(request, attempt.wait_if_wrong)
        return await profile_page(request, errors={"current_password": error}, status=422)
    await login_throttle.succeeded(attempt, now(request), policy.throttle)
    new = str(form.get("new_password", ""))
    if new != str(form.get("new_password_again", "")):
        errors = {"new_password_again": gettext(request, "The two passwords differ.")}
        return await profile_page(request, errors=errors, status=422)
    try:
        # This session stays; every other one of the user ends with the old password.
        await user_ops.set_password(user, new, keep_session=request[REQ_LOGIN].id)
    except ValidationFailed as err:
        return await profile_page(
            request, errors={"new_password": err.fields["password"]}, status=422
        )
    request.app[SESSION_SOCKETS].check_soon()
    flash(request, gettext(request, "Password changed."))
    raise web.HTTPSeeOther("/settings/profile")


async def end_other_sessions(request: web.Request) -> web.Response:
    """Log out everywhere else: every session of this user but this browser's ends."""
    user = current_user(request)
    ended = await sessions.end_sessions_of(user.id, keep=request[REQ_LOGIN].id)
    request.app[SESSION_SOCKETS].check_soon()
    flash(
        request,
        gettext(
            request, "Logged out everywhere else. Sessions ended: %(count)s.", count=len(ended)
        ),
    )
    raise web.HTTPSeeOther("/settings/profile")


async def end_one_session(request: web.Request) -> web.Response:
    """End one session of the list (a forgotten browser); this browser's own is a logout."""
    user = current_user(request)
    session_id = path_id(request)
    await sessions.end_own_session(user, session_id)
    request.app[SESSION_SOCKETS].check_soon()
    if session_id == request[REQ_LOGIN].id:
        request[REQ_SESSION].clear()
        request[REQ_SESSION].mark()
        raise web.HTTPSeeOther("/login")
    flash(request, gettext(request, "That session has ended."))
    raise web.HTTPSeeOther("/settings/profile")


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/settings/password", change_password)
    app.router.add_post("/settings/sessions/others", end_other_sessions)
    app.router.add_post(r"/settings/sessions/{id:\d+}/end", end_one_session)
