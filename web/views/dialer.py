"""The auto-dialer (Q1) in the panel: the widget's dialer tab (JSON), the "add to auto-dialer
list" bulk action on the clients and leads lists (ticked rows or all matching the filters),
the user's lists, and a page per list with each number's result, which follows the list live
(web/static/dialer_list.js polls the same page as JSON).

The daemon's runner does the dialing; these endpoints only change the lists in the database
and read them back.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from models.core.errors import Conflict, ValidationFailed
from models.schema.dialer import DialerEntry
from models.telephony import dialer as dialer_ops
from web.keys import REQ_LANG
from web.templating import flash, gettext, render, say
from web.views import selection
from web.views.common import clock, current_user, form_data, int_param, path_id

_ACTIONS = ("start", "pause", "resume", "skip", "stop")
# Numbers per page of a list's page (a list holds up to 10 000).
ENTRIES_PAGE = 100


def _entry_json(request: web.Request, entry: DialerEntry) -> dict[str, Any]:
    """An entry: its codes for scripts, its labels in the reader's language for people."""
    return {
        "id": entry.id,
        "number": entry.e164 or entry.number,
        "name": entry.name,
        "state": entry.state,
        "state_label": say(request, dialer_ops.entry_state_label(entry.state)),
        "result": entry.result,
        "result_label": say(request, dialer_ops.result_label(entry.result)) if entry.result else "",
        "reason": dialer_ops.reason_text(entry.reason, request[REQ_LANG]),
        "call_id": entry.call_id,
        "call_url": f"/calls/{entry.call_id}" if entry.call_id else None,
    }


def _status_label(request: web.Request, status: str) -> str:
    return say(request, dialer_ops.list_status_label(status))


def _list_json(request: web.Request, view: dialer_ops.ListView) -> dict[str, Any]:
    return {
        "id": view.id,
        "name": view.name,
        "status": view.status,
        "status_label": _status_label(request, view.status),
        "total": view.total,
        "pending": view.pending,
        "done": view.done,
        "answered": view.answered,
        "skipped": view.skipped,
        "progress": _progress_text(request, view),
        "is_live": view.is_live,
        "offset": view.offset,
        "dialing": _entry_json(request, view.dialing) if view.dialing else None,
        "entries": [_entry_json(request, e) for e in view.entries],
    }


def _progress_text(request: web.Request, view: dialer_ops.ListView) -> str:
    return gettext(
        request,
        "%(done)s called (%(answered)s answered), %(pending)s to dial, %(skipped)s skipped",
        done=view.done,
        answered=view.answered,
        pending=view.pending,
        skipped=view.skipped,
    )


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ValidationFailed({"body": gettext(request, "expected a JSON object")}) from None
    if not isinstance(body, dict):
        raise ValidationFailed({"body": gettext(request, "expected a JSON object")})
    return body


def _ids(values: Any) -> list[int]:
    if not isinstance(values, list):
        return []
    return [int(v) for v in values if isinstance(v, int) or (isinstance(v, str) and v.isdigit())]


async def lists(request: web.Request) -> web.Response:
    """The user's lists, the live one first with its entries."""
    user = current_user(request)
    rows = await dialer_ops.lists_of(user)
    current = await dialer_ops.current_list(user)
    detail = None
    if current is not None:
        view = await dialer_ops.view_list(user, current.id, limit=ENTRIES_PAGE)
        detail = _list_json(request, view)
    return web.json_response(
        {
            "lists": [
                {
                    "id": d.id,
                    "name": d.name,
                    "status": d.status,
                    "status_label": _status_label(request, d.status),
                }
                for d in rows
            ],
            "current": detail,
        }
    )


async def create(request: web.Request) -> web.Response:
    """A new list from the widget: numbers typed on the keypad and/or contacts found."""
    user = current_user(request)
    body = await _body(request)
    numbers = body.get("numbers") or []
    if not isinstance(numbers, list):
        numbers = []
    dialer = await dialer_ops.create_list(
        user,
        str(body.get("name") or ""),
        clock=clock(request),
        client_ids=_ids(body.get("client_ids")),
        lead_ids=_ids(body.get("lead_ids")),
        numbers=[str(n) for n in numbers],
    )
    view = await dialer_ops.view_list(user, dialer.id, limit=ENTRIES_PAGE)
    return web.json_response(_list_json(request, view), status=201)


async def show(request: web.Request) -> web.Response:
    """A list's page (or, asked for JSON, its state and the same page of numbers)."""
    user = current_user(request)
    page = max(1, int_param(request.query.get("page"), default=1) or 1)
    view = await dialer_ops.view_list(
        user, path_id(request), offset=(page - 1) * ENTRIES_PAGE, limit=ENTRIES_PAGE
    )
    labels = _list_json(request, view)
    if request.headers.get("Accept", "").startswith("application/json"):
        return web.json_response(labels)
    context = {
        "view": view,
        "labels": labels,
        "page": page,
        "pages": max(1, -(-view.total // ENTRIES_PAGE)),
    }
    return render(request, "dialer/list.html", context)


async def index(request: web.Request) -> web.Response:
    """The user's lists, the live ones first, each with its progress."""
    user = current_user(request)
    lists = await dialer_ops.lists_of(user)
    views = [await dialer_ops.view_list(user, d.id, limit=0) for d in lists]
    context = {
        "rows": [(v, _list_json(request, v)) for v in views],
        "created": {d.id: d.created_at for d in lists},
    }
    return render(request, "dialer/index.html", context)


async def act(request: web.Request) -> web.Response:
    """start, pause, resume, skip (the next number, or `entry_id`) or stop a list."""
    user = current_user(request)
    list_id = path_id(request)
    action = request.match_info["action"]
    if action not in _ACTIONS:
        raise web.HTTPNotFound()
    when = clock(request)
    if action == "start":
        await dialer_ops.start_list(user, list_id, clock=when)
    elif action == "pause":
        await dialer_ops.pause_list(user, list_id)
    elif action == "resume":
        await dialer_ops.resume_list(user, list_id, clock=when)
    elif action == "stop":
        await dialer_ops.stop_list(user, list_id, clock=when)
    else:
        entry_id = None
        if request.content_type == "application/json":
            entry_id = next(iter(_ids([(await _body(request)).get("entry_id")])), None)
        await dialer_ops.skip_entry(user, list_id, entry_id)
    view = await dialer_ops.view_list(user, list_id, limit=ENTRIES_PAGE)
    return web.json_response(_list_json(request, view))


def _back_to(form, path: str) -> str:
    """The list page the bulk form came from, with its filters."""
    query = selection.filters_of(form)
    return f"{path}?{urlencode(list(query.items()))}" if query else path


async def _bulk_add(request: web.Request, kind: str) -> web.Response:
    """Clients or leads list bulk action (C8, Q1): a new list from the ticked rows, or from
    every row matching the page's filters; then the list's page."""
    user = current_user(request)
    form = await form_data(request)
    back = _back_to(form, f"/{kind}")
    try:
        if kind == "clients":
            client_ids, lead_ids = await selection.selected_clients(user, form), []
            nothing = gettext(request, "Select at least one client.")
        else:
            client_ids, lead_ids = [], await selection.selected_leads(user, form)
            nothing = gettext(request, "Select at least one lead.")
        if not client_ids and not lead_ids:
            flash(request, nothing, "error")
            raise web.HTTPSeeOther(back)
        dialer = await dialer_ops.create_list(
            user,
            str(form.get("name") or ""),
            clock=clock(request),
            client_ids=client_ids,
            lead_ids=lead_ids,
        )
    except ValidationFailed as err:
        flash(request, "; ".join(say(request, text) for text in err.fields.values()), "error")
        raise web.HTTPSeeOther(back) from None
    flash(request, gettext(request, "Auto-dialer list created."))
    raise web.HTTPSeeOther(f"/dialer/{dialer.id}")


async def bulk_add(request: web.Request) -> web.Response:
    return await _bulk_add(request, "clients")


async def bulk_add_leads(request: web.Request) -> web.Response:
    return await _bulk_add(request, "leads")


async def page_action(request: web.Request) -> web.Response:
    """The list page's buttons (a form post): same actions, then back to the page."""
    user = current_user(request)
    list_id = path_id(request)
    action = request.match_info["action"]
    when = clock(request)
    try:
        if action == "start":
            await dialer_ops.start_list(user, list_id, clock=when)
            done = gettext(request, "Auto-dialer started.")
        elif action == "pause":
            await dialer_ops.pause_list(user, list_id)
            done = gettext(request, "Auto-dialer paused.")
        elif action == "resume":
            await dialer_ops.resume_list(user, list_id, clock=when)
            done = gettext(request, "Auto-dialer resumed.")
        elif action == "stop":
            await dialer_ops.stop_list(user, list_id, clock=when)
            done = gettext(request, "Auto-dialer stopped.")
        elif action == "skip":
            await dialer_ops.skip_entry(user, list_id)
            done = gettext(request, "Next number skipped.")
        else:
            raise web.HTTPNotFound()
    except ValidationFailed as err:
        flash(request, "; ".join(say(request, text) for text in err.fields.values()), "error")
    except Conflict as err:
        flash(request, say(request, err.args[0]) if err.args else "", "error")
    else:
        flash(request, done)
    raise web.HTTPSeeOther(f"/dialer/{list_id}")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/dialer/lists", lists)
    app.router.add_post("/api/dialer/lists", create)
    app.router.add_post(r"/api/dialer/lists/{id:\d+}/{action:[a-z]+}", act)
    app.router.add_post("/clients/bulk-dialer", bulk_add)
    app.router.add_post("/leads/bulk-dialer", bulk_add_leads)
    app.router.add_get("/dialer", index)
    app.router.add_get(r"/dialer/{id:\d+}", show)
    app.router.add_post(r"/dialer/{id:\d+}/{action:[a-z]+}", page_action)
