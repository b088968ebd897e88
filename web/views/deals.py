"""Deals (A1-A4): kanban with drag and drop, list, several currencies, each deal's history."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from aiohttp import web

from models.contacts import clients as client_ops
from models.contacts import notes as note_ops
from models.core.errors import ValidationFailed
from models.people import company_settings as settings_ops
from models.people import team
from models.people.permissions import DEALS, may_edit
from models.sales import board as deal_board
from models.sales import deals as deal_ops
from web.keys import HUB
from web.listing import fetch_page, read_listing
from web.templating import flash, gettext, render, say
from web.views.common import clock, current_user, form_data, int_param, path_id, text_values


async def deals_page(request: web.Request) -> web.Response:
    user = current_user(request)
    view = request.query.get("view", "kanban")
    responsible = int_param(request.query.get("responsible"))
    context: dict[str, Any] = {
        "view": view,
        "statuses": deal_ops.STATUSES,
        "labels": deal_ops.STATUS_LABELS,
        "users": await team.roster(),
        "responsible": responsible,
    }
    if view == "list":
        status = request.query.get("status") or None
        listing = read_listing(request, deal_ops.SORTS)
        fetch = partial(
            deal_ops.list_deals,
            user,
            status=status if status in deal_ops.STATUSES else None,
            responsible_id=responsible,
            query=request.query.get("q") or None,
            sort=listing.sort,
        )
        page = await fetch_page(listing, fetch)
        context.update(
            deals=page.rows,
            total=page.total,
            paging=page,
            listing=listing,
            status=status or "",
            q=request.query.get("q", ""),
        )
        return render(request, "deals/list.html", context)
    context["columns"] = await deal_board.board(user, responsible_id=responsible)
    return render(request, "deals/kanban.html", context)


async def new_deal_page(request: web.Request) -> web.Response:
    user = current_user(request)
    client_id = int_param(request.query.get("client_id"))
    if client_id is None:
        raise web.HTTPSeeOther("/clients")
    client = await client_ops.get_client(user, client_id)
    form = {"currency": (await settings_ops.currencies_in_use())[0], "amount": "0"}
    return render(request, "deals/form.html", await _form_context(request, client, form, {}))


async def _form_context(request: web.Request, client, form: dict, errors: dict) -> dict:
    return {
        "client": client,
        "form": form,
        "errors": errors,
        "currencies": await settings_ops.currencies_in_use(),
        "user_options": [(str(u.id), str(u)) for u in await team.roster()],
    }


async def create_deal(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    values = text_values(form)
    client_id = int_param(values.get("client_id"))
    if client_id is None:
        raise web.HTTPBadRequest(text="client_id is required")
    client = await client_ops.get_client(user, client_id)
    try:
        deal = await deal_ops.create_deal(
            user,
            client_id,
            values.get("title", ""),
            values.get("amount", "0") or "0",
            values.get("currency") or None,
            responsible_id=int_param(values.get("responsible_id")),
            clock=clock(request),
        )
    except ValidationFailed as err:
        context = await _form_context(request, client, values, err.fields)
        return render(request, "deals/form.html", context, status=422)
    flash(request, gettext(request, "Deal %(title)s created.", title=deal.title))
    raise web.HTTPSeeOther(f"/deals/{deal.id}")


async def deal_page(
    request: web.Request, *, form: dict | None = None, errors: dict | None = None, status: int = 200
) -> web.Response:
    user = current_user(request)
    deal_id = path_id(request)
    deal = await deal_ops.get_deal(user, deal_id)
    form = form or {
        "title": deal.title,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "responsible_id": str(deal.responsible_id or ""),
        "status": deal.status,
    }
    context = {
        "deal": deal,
        "history": await deal_ops.deal_history(user, deal_id),
        "notes": await note_ops.notes_of(deal_id=deal_id),
        "labels": deal_ops.STATUS_LABELS,
        "statuses": deal_ops.STATUSES,
        "can_edit": may_edit(user, DEALS, deal.responsible_id),
        "currencies": await settings_ops.currencies_in_use(),
        "user_options": [(str(u.id), str(u)) for u in await team.roster()],
        "form": form,
        "errors": errors or {},
    }
    return render(request, "deals/detail.html", context, status=status)


async def deal_detail(request: web.Request) -> web.Response:
    return await deal_page(request)


async def update_deal(request: web.Request) -> web.Response:
    user = current_user(request)
    deal_id = path_id(request)
    form = await form_data(request)
    values = text_values(form)
    try:
        await deal_ops.update_deal(
            user,
            deal_id,
            title=values.get("title", ""),
            amount=values.get("amount", "0") or "0",
            currency=values.get("currency") or None,
            responsible_id=int_param(values.get("responsible_id")),
            status=values.get("status") or None,
            clock=clock(request),
            hub=request.app[HUB],
        )
    except ValidationFailed as err:
        return await deal_page(request, form=values, errors=err.fields, status=422)
    flash(request, gettext(request, "Changes saved."))
    raise web.HTTPSeeOther(f"/deals/{deal_id}")


async def move_deal(request: web.Request) -> web.Response:
    """The kanban's drop: a CSRF-protected fetch with the new status (and place in the column)."""
    user = current_user(request)
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return web.json_response({"error": "expected a JSON body"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "expected a JSON object"}, status=400)
    position = body.get("position")
    deal = await deal_ops.move_deal(
        user,
        path_id(request),
        str(body.get("status", "")),
        position if isinstance(position, int) else None,
        clock=clock(request),
        hub=request.app[HUB],
    )
    status = gettext(request, deal_ops.STATUS_LABELS[deal.status])
    message = gettext(request, "“%(title)s” moved to %(status)s.", title=deal.title, status=status)
    return web.json_response({"id": deal.id, "status": deal.status, "message": message})


async def add_note(request: web.Request) -> web.Response:
    user = current_user(request)
    deal_id = path_id(request)
    form = await form_data(request)
    try:
        await note_ops.add_note(
            user, str(form.get("text", "")), deal_id=deal_id, clock=clock(request)
        )
    except ValidationFailed as err:
        flash(request, "; ".join(say(request, text) for text in err.fields.values()), "error")
    else:
        flash(request, gettext(request, "Note added."))
    raise web.HTTPSeeOther(f"/deals/{deal_id}")


async def delete_deal(request: web.Request) -> web.Response:
    user = current_user(request)
    deal = await deal_ops.get_deal(user, path_id(request))
    await deal_ops.delete_deal(user, deal.id)
    flash(request, gettext(request, "Deal deleted."))
    raise web.HTTPSeeOther(f"/clients/{deal.client_id}")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/deals", deals_page)
    app.router.add_get("/deals/new", new_deal_page)
    app.router.add_post("/deals/new", create_deal)
    app.router.add_get(r"/deals/{id:\d+}", deal_detail)
    app.router.add_post(r"/deals/{id:\d+}/edit", update_deal)
    app.router.add_post(r"/deals/{id:\d+}/notes", add_note)
    app.router.add_post(r"/deals/{id:\d+}/delete", delete_deal)
    app.router.add_post(r"/api/deals/{id:\d+}/move", move_deal)
