"""The team (M1, M2): colleagues with contact data, add users, invitations by link and email."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.core.errors import Conflict, ValidationFailed
from models.messaging import invitation_mail
from models.people import team
from models.people import users as user_ops
from models.people.permissions import has_right
from models.people.users import get_company
from web.keys import SETTINGS
from web.templating import flash, gettext, render, say
from web.views.calling import click_to_call
from web.views.common import (
    clock,
    current_user,
    form_data,
    int_param,
    now,
    path_id,
    text_values,
    users_changed,
)
from web.views.invite_email import compose_invite


async def _context(request: web.Request, **extra) -> dict:
    user = current_user(request)
    manage = has_right(user, "users.manage")
    invites = await team.pending_invites(user, now(request)) if manage else []
    context = {
        "members": await team.list_users(user, include_inactive=manage),
        "groups": await team.list_groups(),
        "manage": manage,
        "invites": invites,
        "deliveries": await invitation_mail.invite_deliveries(invites),
        "mail_configured": request.app[SETTINGS].mail.is_configured,
        "form": {},
        "errors": {},
        "invite_form": {},
        "invite_errors": {},
        "invite_link": "",
        "invite_sent_to": "",
        "invite_not_emailed": False,
    }
    context.update(extra)
    return context


async def team_page(request: web.Request) -> web.Response:
    return render(request, "team.html", await _context(request))


async def add_user(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    values = text_values(form)
    try:
        member = await team.add_user(
            user,
            username=values.get("username", ""),
            password=str(form.get("password", "")),
            email=values.get("email", ""),
            extension=values.get("extension", ""),
            full_name=values.get("full_name", ""),
            group_name=values.get("group", "Agent"),
        )
    except ValidationFailed as err:
        return render(
            request,
            "team.html",
            await _context(request, form=values, errors=err.fields),
            status=422,
        )
    except Conflict as err:
        errors = {err.field or "username": str(err)}
        return render(
            request, "team.html", await _context(request, form=values, errors=errors), status=409
        )
    users_changed(request, member.id)
    flash(request, gettext(request, "User %(name)s added.", name=member.username))
    raise web.HTTPSeeOther("/team")


def _public_base(request: web.Request) -> str:
    configured = request.app[SETTINGS].web.public_url.rstrip("/")
    return configured or f"{request.scheme}://{request.host}"


async def create_invite(request: web.Request) -> web.Response:
    """An invitation link; with mail configured and an address given, also emailed to it."""
    user = current_user(request)
    form = await form_data(request)
    values = text_values(form)
    email = values.get("email", "").strip()
    by_email = bool(email) and request.app[SETTINGS].mail.is_configured
    options: dict[str, Any] = {
        "extension": values.get("extension", ""),
        "group_name": values.get("group", "Agent"),
    }
    try:
        if by_email:
            company = (await get_company()).name
            invite, token = await invitation_mail.invite_by_email(
                user,
                clock(request),
                email=email,
                compose=lambda token: compose_invite(
                    request,
                    to=email,
                    link=_invite_link(request, token),
                    inviter=user,
                    company=company,
                    hours=team.INVITE_HOURS,
                ),
                **options,
            )
        else:
            invite, token = await team.create_invite(user, now(request), email=email, **options)
    except (ValidationFailed, Conflict) as err:
        errors = (
            err.fields if isinstance(err, ValidationFailed) else {err.field or "email": str(err)}
        )
        context = await _context(request, invite_form=values, invite_errors=errors)
        return render(request, "team.html", context, status=422)
    context = await _context(
        request,
        invite_link=_invite_link(request, token),
        invite_expires=invite.expires_at,
        invite_sent_to=invite.email if by_email else "",
        invite_not_emailed=bool(email) and not by_email,
    )
    return render(request, "team.html", context)


def _invite_link(request: web.Request, token: str) -> str:
    return f"{_public_base(request)}/invite/{token}"


async def set_group(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    group_id = int_param(str(form.get("group_id", "")))
    if group_id is None:
        raise web.HTTPSeeOther("/team")
    try:
        member = await team.set_user_group(user, path_id(request), group_id)
    except ValidationFailed as err:
        flash(request, "; ".join(say(request, text) for text in err.fields.values()), "error")
    else:
        users_changed(request, member.id)
        group = gettext(request, member.group.name)
        moved = gettext(request, "%(name)s is now in %(group)s.", name=str(member), group=group)
        flash(request, moved)
    raise web.HTTPSeeOther("/team")


async def set_active(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    try:
        member = await team.set_user_active(user, path_id(request), form.get("active") == "1")
    except ValidationFailed as err:
        flash(request, "; ".join(say(request, text) for text in err.fields.values()), "error")
    else:
        users_changed(request, member.id)
        if member.is_active:
            flash(request, gettext(request, "%(name)s can log in again.", name=str(member)))
        else:
            flash(request, gettext(request, "%(name)s was deactivated.", name=str(member)))
    raise web.HTTPSeeOther("/team")


async def call_colleague(request: web.Request) -> web.Response:
    user = current_user(request)
    colleague = await user_ops.get_user(path_id(request))
    ok, message = await click_to_call(request, user, colleague.extension or "")
    flash(request, message, "ok" if ok else "error")
    raise web.HTTPSeeOther("/team")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/team", team_page)
    app.router.add_post("/team/users", add_user)
    app.router.add_post("/team/invites", create_invite)
    app.router.add_post(r"/team/{id:\d+}/group", set_group)
    app.router.add_post(r"/team/{id:\d+}/active", set_active)
    app.router.add_post(r"/team/{id:\d+}/call", call_colleague)
