"""Leads (E1, E2, E4): My leads, Unhandled, take a lead, "+" in each, convert to a client."""

from __future__ import annotations

from functools import partial

from aiohttp import web

from models.contacts import clients as client_ops
from models.contacts import notes as note_ops
from models.contacts import timeline as timeline_ops
from models.core.errors import Conflict, ValidationFailed
from models.people import company_settings as settings_ops
from models.people.permissions import LEADS, has_right, may_edit
from models.sales import deals as deal_ops
from models.sales import leads as lead_ops
from web.keys import HUB
from web.list_filters import lead_filters, lead_status
from web.listing import fetch_page, read_listing
from web.templating import flash, gettext, render, say
from web.views.common import clock, current_user, form_data, has_route, path_id
from web.views.forms import custom_of, many, typed_back


async def lead_list(request: web.Request) -> web.Response:
    user = current_user(request)
    listing = read_listing(request, lead_ops.SORTS)
    filters = lead_filters(user, request.query)
    fetch = partial(
        lead_ops.list_leads,
        user,
        view=filters.view,
        query=filters.query,
        status=filters.status,
        created_since=filters.created_since,
        created_until=filters.created_until,
        sort=listing.sort,
    )
    page = await fetch_page(listing, fetch)
    context = {
        "leads": page.rows,
        "total": page.total,
        "paging": page,
        "listing": listing,
        "view": filters.view,
        "status": lead_status(request.query),
        "date_from": request.query.get("from", ""),
        "date_to": request.query.get("to", ""),
        "q": request.query.get("q", ""),
        "can_view_all": has_right(user, "leads.view_all"),
        "import_export": has_right(user, "import_export") and has_route(request, "/imports/new"),
    }
    return render(request, "leads/list.html", context)


async def new_lead_page(request: web.Request) -> web.Response:
    unhandled = request.query.get("unhandled") == "1"
    form = {"phones": [""], "emails": [""], "unhandled": "1" if unhandled else ""}
    context = {"form": form, "errors": {}, "fields": await client_ops.list_custom_fields("lead")}
    return render(request, "leads/form.html", context)


async def create_lead(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    fields = await client_ops.list_custom_fields("lead")
    data = lead_ops.LeadInput(
        name=str(form.get("name", "")),
        phones=many(form, "phones"),
        emails=many(form, "emails"),
        company_name=str(form.get("company_name", "")),
        custom=custom_of(form, fields),
    )
    unhandled = form.get("unhandled") == "1"
    try:
        lead = await lead_ops.create_lead(
            user, data, unhandled=unhandled, clock=clock(request), hub=request.app[HUB]
        )
    except (ValidationFailed, Conflict) as err:
        errors = (
            {k.replace("custom.", "cf_", 1): v for k, v in err.fields.items()}
            if isinstance(err, ValidationFailed)
            else {err.field or "__all__": str(err)}
        )
        context = {"form": typed_back(form), "errors": errors, "fields": fields}
        return render(request, "leads/form.html", context, status=422)
    flash(request, gettext(request, "Lead %(name)s created.", name=lead.name))
    raise web.HTTPSeeOther(f"/leads?view={'unhandled' if unhandled else 'mine'}")


async def lead_card(request: web.Request) -> web.Response:
    user = current_user(request)
    lead_id = path_id(request)
    lead = await lead_ops.get_lead(user, lead_id)
    context = {
        "lead": lead,
        "fields": await client_ops.list_custom_fields("lead"),
        "timeline": await timeline_ops.lead_timeline(user, lead_id, limit=100),
        "can_edit": may_edit(user, LEADS, lead.responsible_id),
        "currencies": await settings_ops.currencies_in_use(),
        "form": {},
        "errors": {},
    }
    return render(request, "leads/card.html", context)


async def take_lead(request: web.Request) -> web.Response:
    user = current_user(request)
    lead_id = path_id(request)
    try:
        await lead_ops.claim_lead(user, lead_id)
    except Conflict as err:
        flash(request, str(err), "error")
        raise web.HTTPSeeOther("/leads?view=unhandled") from None
    flash(request, gettext(request, "The lead is yours now."))
    raise web.HTTPSeeOther(f"/leads/{lead_id}")


async def convert_lead(request: web.Request) -> web.Response:
    user = current_user(request)
    lead_id = path_id(request)
    form = await form_data(request)
    deal = None
    if form.get("with_deal") == "1":
        deal = deal_ops.DealInput(
            title=str(form.get("deal_title", "")),
            amount=str(form.get("deal_amount", "0")) or "0",
            currency=str(form.get("deal_currency", "")) or None,
        )
        if not deal.title.strip():
            return await _convert_failed(
                request, lead_id, form, {"deal_title": gettext(request, "The deal needs a title.")}
            )
    try:
        client = await lead_ops.convert_lead(
            user, lead_id, deal=deal, clock=clock(request), hub=request.app[HUB]
        )
    except ValidationFailed as err:
        fields = {
            f"deal_{k}" if k in ("title", "amount", "currency") else k: v
            for k, v in err.fields.items()
        }
        return await _convert_failed(request, lead_id, form, fields)
    except Conflict as err:
        return await _convert_failed(request, lead_id, form, {"__all__": str(err)})
    flash(request, gettext(request, "The lead is now the client %(name)s.", name=client.name))
    raise web.HTTPSeeOther(f"/clients/{client.id}")


async def _convert_failed(request: web.Request, lead_id: int, form, errors) -> web.Response:
    user = current_user(request)
    lead = await lead_ops.get_lead(user, lead_id)
    context = {
        "lead": lead,
        "fields": await client_ops.list_custom_fields("lead"),
        "timeline": await timeline_ops.lead_timeline(user, lead_id, limit=100),
        "can_edit": may_edit(user, LEADS, lead.responsible_id),
        "currencies": await settings_ops.currencies_in_use(),
        "form": typed_back(form),
        "errors": errors,
    }
    return render(request, "leads/card.html", context, status=422)


async def close_lead(request: web.Request) -> web.Response:
    user = current_user(request)
    await lead_ops.close_lead(user, path_id(request))
    flash(request, gettext(request, "Lead closed."))
    raise web.HTTPSeeOther("/leads")


async def add_note(request: web.Request) -> web.Response:
    user = current_user(request)
    lead_id = path_id(request)
    form = await form_data(request)
    try:
        await note_ops.add_note(
            user, str(form.get("text", "")), lead_id=lead_id, clock=clock(request)
        )
    except ValidationFailed as err:
        flash(request, "; ".join(say(request, text) for text in err.fields.values()), "error")
    else:
        flash(request, gettext(request, "Note added."))
    raise web.HTTPSeeOther(f"/leads/{lead_id}")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/leads", lead_list)
    app.router.add_get("/leads/new", new_lead_page)
    app.router.add_post("/leads/new", create_lead)
    app.router.add_get(r"/leads/{id:\d+}", lead_card)
    app.router.add_post(r"/leads/{id:\d+}/take", take_lead)
    app.router.add_post(r"/leads/{id:\d+}/convert", convert_lead)
    app.router.add_post(r"/leads/{id:\d+}/close", close_lead)
    app.router.add_post(r"/leads/{id:\d+}/notes", add_note)
