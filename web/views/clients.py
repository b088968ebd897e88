"""Clients (C1-C7): list with filters and universal search, the "+" form, the card, edit."""

from __future__ import annotations

from functools import partial

from aiohttp import web

from models.contacts import clients as client_ops
from models.contacts import notes as note_ops
from models.contacts import timeline as timeline_ops
from models.contacts.tags import all_tags
from models.core.errors import Conflict, ValidationFailed
from models.people import team
from models.people.permissions import CLIENTS, has_right, may_edit
from models.sales import deals as deal_ops
from web.keys import HUB
from web.list_filters import client_filters
from web.listing import fetch_page, read_listing
from web.templating import flash, gettext, render, say
from web.views.calling import click_to_call, pbx_is_up
from web.views.common import clock, current_user, form_data, has_route, path_id
from web.views.forms import client_input, typed_back


async def client_list(request: web.Request) -> web.Response:
    user = current_user(request)
    q = request.query
    view = q.get("view", "all")
    listing = read_listing(request, client_ops.SORTS)
    filters = client_filters(user, q)
    fetch = partial(
        client_ops.list_clients,
        user,
        mine=filters.mine,
        query=filters.query,
        tag=filters.tag,
        status=filters.status,
        responsible_id=filters.responsible_id,
        created_since=filters.created_since,
        created_until=filters.created_until,
        sort=listing.sort,
    )
    # A search counts up to SEARCH_COUNT_CAP (models/contacts/clients.py); a list, exactly.
    cap = client_ops.SEARCH_COUNT_CAP if (q.get("q") or "").strip() else None
    page = await fetch_page(listing, fetch, cap=cap)
    context = {
        "clients": page.rows,
        "total": page.total,
        "paging": page,
        "listing": listing,
        "view": view,
        "query": dict(q),
        "statuses": client_ops.STATUSES,
        "tags": await all_tags(),
        "users": await team.roster(),
        "import_export": has_right(user, "import_export") and has_route(request, "/imports/new"),
    }
    return render(request, "clients/list.html", context)


async def _form_context(request: web.Request, form: dict, errors: dict, client=None) -> dict:
    return {
        "form": form,
        "errors": errors,
        "client": client,
        "statuses": client_ops.STATUSES,
        "types": client_ops.TYPES,
        "fields": await client_ops.list_custom_fields("client"),
        "user_options": [(str(u.id), str(u)) for u in await team.roster()],
    }


def _errors_of(err: ValidationFailed | Conflict) -> dict[str, str]:
    if isinstance(err, ValidationFailed):
        # The domain names custom fields "custom.<key>"; the form names them "cf_<key>".
        return {k.replace("custom.", "cf_", 1): v for k, v in err.fields.items()}
    return {err.field or "__all__": str(err)}


async def new_client_page(request: web.Request) -> web.Response:
    user = current_user(request)
    form = {
        "phones": [""],
        "emails": [""],
        "status": "active",
        "type": "person",
        "responsible_id": str(user.id),
    }
    return render(request, "clients/form.html", await _form_context(request, form, {}))


async def create_client(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    fields = await client_ops.list_custom_fields("client")
    try:
        client = await client_ops.create_client(
            user, client_input(form, fields), clock=clock(request), hub=request.app[HUB]
        )
    except (ValidationFailed, Conflict) as err:
        context = await _form_context(request, typed_back(form), _errors_of(err))
        return render(request, "clients/form.html", context, status=422)
    flash(request, gettext(request, "Client %(name)s created.", name=client.name))
    raise web.HTTPSeeOther(f"/clients/{client.id}")


async def client_card(request: web.Request) -> web.Response:
    user = current_user(request)
    client_id = path_id(request)
    client = await client_ops.get_client(user, client_id)
    context = {
        "client": client,
        "fields": await client_ops.list_custom_fields("client"),
        "timeline": await timeline_ops.client_timeline(user, client_id, limit=100),
        "deals": (await deal_ops.list_deals(user, client_id=client_id, limit=20))[0],
        "can_edit": may_edit(user, CLIENTS, client.responsible_id),
        "pbx_up": pbx_is_up(request),
        "status_labels": deal_ops.STATUS_LABELS,
        "users_by_id": {u.id: u for u in await team.roster()},
    }
    return render(request, "clients/card.html", context)


async def edit_client_page(request: web.Request) -> web.Response:
    user = current_user(request)
    client = await client_ops.get_client(user, path_id(request))
    form = {
        "name": client.name,
        "company_name": client.company_name,
        "status": client.status,
        "type": client.type,
        "responsible_id": str(client.responsible_id or ""),
        "tags": ", ".join(t.name for t in client.tags),
        "phones": [p.typed for p in sorted(client.phones, key=lambda p: p.position)] or [""],
        "emails": [e.address for e in sorted(client.emails, key=lambda e: e.position)] or [""],
    }
    for key, value in client.custom.items():
        form[f"cf_{key}"] = value
    return render(request, "clients/form.html", await _form_context(request, form, {}, client))


async def update_client(request: web.Request) -> web.Response:
    user = current_user(request)
    client_id = path_id(request)
    client = await client_ops.get_client(user, client_id)
    form = await form_data(request)
    fields = await client_ops.list_custom_fields("client")
    try:
        await client_ops.update_client(user, client_id, client_input(form, fields))
    except (ValidationFailed, Conflict) as err:
        context = await _form_context(request, typed_back(form), _errors_of(err), client)
        return render(request, "clients/form.html", context, status=422)
    flash(request, gettext(request, "Changes saved."))
    raise web.HTTPSeeOther(f"/clients/{client_id}")


async def delete_client(request: web.Request) -> web.Response:
    user = current_user(request)
    await client_ops.delete_client(user, path_id(request))
    flash(request, gettext(request, "Client deleted."))
    raise web.HTTPSeeOther("/clients")


async def call_client(request: web.Request) -> web.Response:
    """One-click call (C6): the number chosen on the card, through the hub."""
    user = current_user(request)
    client_id = path_id(request)
    client = await client_ops.get_client(user, client_id)
    form = await form_data(request)
    wanted = str(form.get("phone_id", ""))
    phones = sorted(client.phones, key=lambda p: p.position)
    phone = next((p for p in phones if str(p.id) == wanted), phones[0] if phones else None)
    number = (phone.e164 or phone.typed) if phone else ""
    ok, message = await click_to_call(request, user, number)
    if request.headers.get("Accept", "").startswith("application/json"):
        return web.json_response({"ok": ok, "message": message}, status=200 if ok else 503)
    flash(request, message, "ok" if ok else "error")
    raise web.HTTPSeeOther(f"/clients/{client_id}")


async def add_note(request: web.Request) -> web.Response:
    user = current_user(request)
    client_id = path_id(request)
    form = await form_data(request)
    try:
        await note_ops.add_note(
            user, str(form.get("text", "")), client_id=client_id, clock=clock(request)
        )
    except ValidationFailed as err:
        flash(request, "; ".join(say(request, text) for text in err.fields.values()), "error")
    else:
        flash(request, gettext(request, "Note added."))
    raise web.HTTPSeeOther(f"/clients/{client_id}")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/clients", client_list)
    app.router.add_get("/clients/new", new_client_page)
    app.router.add_post("/clients/new", create_client)
    app.router.add_get(r"/clients/{id:\d+}", client_card)
    app.router.add_get(r"/clients/{id:\d+}/edit", edit_client_page)
    app.router.add_post(r"/clients/{id:\d+}/edit", update_client)
    app.router.add_post(r"/clients/{id:\d+}/delete", delete_client)
    app.router.add_post(r"/clients/{id:\d+}/call", call_client)
    app.router.add_post(r"/clients/{id:\d+}/notes", add_note)
