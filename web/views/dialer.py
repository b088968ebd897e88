"""The auto-dialer (Q1) in the panel: the widget's dialer tab (JSON), the "add to auto-dialer
list" bulk action on the clients list, and a page per list with each number's result.

The daemon's runner does the dialing; these endpoints only change the lists in the database
and read them back.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.core.errors import Conflict, ValidationFailed
from models.schema.dialer import DialerEntry
from models.telephony import dialer as dialer_ops
from web.keys import REQ_LANG
from web.templating import flash, gettext, render, say
from web.views.common import clock, current_user, form_data, path_id

_ACTIONS = ("start", "pause", "resume", "skip", "stop")


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
        "skipped": view.skipped,
        "dialing": _entry_json(request, view.dialing) if view.dialing else None,
        "entries": [_entry_json(request, e) for e in view.entries],
    }


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
    detail = _list_json(request, await dialer_ops.view_list(user, current.id)) if current else None
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
    view = await dialer_ops.view_list(user, dialer.id)
    return web.json_response(_list_json(request, view), status=201)


async def show(request: web.Request) -> web.Response:
    user = current_user(request)
    view = await dialer_ops.view_list(user, path_id(request))
    if request.headers.get("Accept", "").startswith("application/json"):
        return web.json_response(_list_json(request, view))
    return render(request, "dialer/list.html", {"view": view, "labels": _list_json(request, view)})


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
    return web.json_response(_list_json(request, await dialer_ops.view_list(user, list_id)))


async def bulk_add(request: web.Request) -> web.Response:
    """Clients list bulk action (C8): a new list from the selected clients, then its page."""
    user = current_user(request)
    form = await form_data(request)
    ids = [int(v) for v in form.getall("client_ids", []) if isinstance(v, str) and v.isdigit()]
    if not ids:
        flash(request, gettext(request, "Select at least one client."))
        raise web.HTTPSeeOther("/clients")
    dialer = await dialer_ops.create_list(
        user, str(form.get("name") or ""), clock=clock(request), client_ids=ids
    )
    flash(request, gettext(request, "Auto-dialer list created."))
    raise web.HTTPSeeOther(f"/dialer/{dialer.id}")


async def page_action(request: web.Request) -> web.Response:
    """The list page's buttons (a form post): same actions, then back to the page."""
    user = current_user(request)
    list_id = path_id(request)
    action = request.match_info["action"]
    when = clock(request)
    try:
        if action == "start":
            await dialer_ops.start_list(user, list_id, clock=when)
        elif action == "pause":
            await dialer_ops.pause_list(user, list_id)
        elif action == "resume":
            await dialer_ops.resume_list(user, list_id, clock=when)
        elif action == "stop":
            await dialer_ops.stop_list(user, list_id, clock=when)
        elif action == "skip":
            await dialer_ops.skip_entry(user, list_id)
        else:
            raise web.HTTPNotFound()
    except ValidationFailed as err:
        flash(request, "; ".join(say(request, text) for text in err.fields.values()))
    except Conflict as err:
        flash(request, say(request, err.args[0]) if err.args else "")
    raise web.HTTPSeeOther(f"/dialer/{list_id}")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/dialer/lists", lists)
    app.router.add_post("/api/dialer/lists", create)
    app.router.add_post(r"/api/dialer/lists/{id:\d+}/{action:[a-z]+}", act)
    app.router.add_post("/clients/bulk-dialer", bulk_add)
    app.router.add_get(r"/dialer/{id:\d+}", show)
    app.router.add_post(r"/dialer/{id:\d+}/{action:[a-z]+}", page_action)
