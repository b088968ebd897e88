"""Tasks (T1-T3): list with filters, complete by checkbox, the four types, overdue marked."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from aiohttp import web

from models.core.errors import ValidationFailed
from models.people import team
from models.people.permissions import has_right
from models.reporting.periods import day_filter
from models.work import tasks as task_ops
from web.keys import HUB
from web.listing import fetch_page, read_listing
from web.templating import flash, formatter, gettext, render, sms_enabled
from web.views.common import clock, current_user, form_data, int_param, now, path_id, safe_next

MINUTES_A_DAY = 24 * 60


def parse_local(text: str, request: web.Request) -> datetime | None:
    """A datetime-local input (the user's wall clock) as an aware datetime."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return naive.replace(tzinfo=formatter(request).tz) if naive.tzinfo is None else naive


def local_input(value: datetime, request: web.Request) -> str:
    return formatter(request).local(value).strftime("%Y-%m-%dT%H:%M")


async def task_list(request: web.Request) -> web.Response:
    user = current_user(request)
    q = request.query
    scope = q.get("scope", "mine") if q.get("scope") in task_ops.SCOPES else "mine"
    if scope == "all" and not has_right(user, "tasks.view_all"):
        scope = "mine"
    status = q.get("status", "")
    status = status if status in task_ops.STATUS_FILTERS else "open"
    listing = read_listing(request, task_ops.SORTS, default=task_ops.default_sort(status))
    due = day_filter(user, q.get("from"), q.get("to"))  # the user's days, as UTC
    fetch = partial(
        task_ops.list_tasks,
        user,
        scope=scope,
        status=status,
        query=q.get("q") or None,
        start=due.start,
        end=due.end,
        clock=clock(request),
        sort=listing.sort,
    )
    page = await fetch_page(listing, fetch)
    context = {
        "tasks": page.rows,
        "total": page.total,
        "paging": page,
        "listing": listing,
        "scope": scope,
        "status": status,
        "query": dict(q),
        "now": now(request),
        "kinds": task_ops.KIND_LABELS,
        "can_view_all": has_right(user, "tasks.view_all"),
        "is_overdue": task_ops.is_overdue,
    }
    return render(request, "tasks/list.html", context)


async def _form_context(request: web.Request, form: dict, errors: dict, task=None) -> dict:
    user = current_user(request)
    users = await team.roster()
    if not has_right(user, "tasks.assign_others"):
        users = [u for u in users if u.id == user.id]
    return {
        "form": form,
        "errors": errors,
        "task": task,
        "users": users,
        "kinds": task_ops.KIND_LABELS,
    }


async def new_task_page(request: web.Request) -> web.Response:
    user = current_user(request)
    q = request.query
    due = now(request).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if q.get("date"):
        day = parse_local(q["date"] + "T09:00", request)
        due = day or due
    form = {
        "kind": q.get("kind", "task") if q.get("kind") in task_ops.KINDS else "task",
        "due_at": local_input(due, request),
        "duration_minutes": "30",
        "duration_days": "1",
        "client_id": q.get("client_id", ""),
        "lead_id": q.get("lead_id", ""),
        "deal_id": q.get("deal_id", ""),
        "assignee_ids": [str(user.id)],
        "next": safe_next(q.get("next"), "/tasks"),
    }
    return render(request, "tasks/form.html", await _form_context(request, form, {}))


def _task_input(form, request: web.Request) -> tuple[task_ops.TaskInput | None, dict, dict]:
    values: dict[str, Any] = {
        k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"
    }
    values["assignee_ids"] = [v for v in form.getall("assignee_ids", []) if isinstance(v, str)]
    errors: dict[str, str] = {}
    all_day = values.get("all_day") == "1"
    if all_day:  # the time is ignored: the day's local midnight, lasting whole days
        day = values.get("due_at", "").strip()[:10]
        due = parse_local(day + "T00:00", request) if len(day) == 10 else None
        days = int_param(values.get("duration_days"), default=1) or 1
        duration: int | None = max(days, 1) * MINUTES_A_DAY
    else:
        due = parse_local(values.get("due_at", ""), request)
        duration = int_param(values.get("duration_minutes"), default=30)
    if due is None:
        errors["due_at"] = (
            gettext(request, "Choose a date.")
            if all_day
            else gettext(request, "Choose a date and time.")
        )
    remind = values.get("remind_minutes_before", "")
    if errors or due is None:
        return None, values, errors
    data = task_ops.TaskInput(
        title=values.get("title", ""),
        due_at=due,
        kind=values.get("kind", "task"),
        description=values.get("description", ""),
        duration_minutes=duration if duration is not None else 30,
        assignee_ids=[int(v) for v in values["assignee_ids"] if v.isdigit()],
        client_id=int_param(values.get("client_id")),
        lead_id=int_param(values.get("lead_id")),
        deal_id=int_param(values.get("deal_id")),
        remind_minutes_before=int_param(remind) if remind else None,
        sms_text=values.get("sms_text", ""),
        all_day=all_day,
    )
    return data, values, errors


async def create_task(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    data, values, errors = _task_input(form, request)
    if data is not None:
        try:
            await task_ops.create_task(
                user, data, clock=clock(request), sms_enabled=sms_enabled(request)
            )
        except ValidationFailed as err:
            errors = dict(err.fields)
    if errors:
        return render(
            request, "tasks/form.html", await _form_context(request, values, errors), status=422
        )
    flash(request, gettext(request, "Task created."))
    raise web.HTTPSeeOther(safe_next(values.get("next"), "/tasks"))


async def edit_task_page(request: web.Request) -> web.Response:
    user = current_user(request)
    task = await task_ops.get_task(user, path_id(request))
    form = {
        "title": task.title,
        "kind": task.kind,
        "description": task.description,
        "due_at": local_input(task.due_at, request),
        "duration_minutes": str(task.duration_minutes),
        "all_day": "1" if task.all_day else "",
        "duration_days": str(max(task.duration_minutes // MINUTES_A_DAY, 1)),
        "remind_minutes_before": ""
        if task.remind_minutes_before is None
        else str(task.remind_minutes_before),
        "sms_text": task.sms_text,
        "client_id": str(task.client_id or ""),
        "lead_id": str(task.lead_id or ""),
        "deal_id": str(task.deal_id or ""),
        "assignee_ids": [str(a.id) for a in task.assignees],
        "next": "/tasks",
    }
    return render(request, "tasks/form.html", await _form_context(request, form, {}, task))


async def update_task(request: web.Request) -> web.Response:
    user = current_user(request)
    task = await task_ops.get_task(user, path_id(request))
    form = await form_data(request)
    data, values, errors = _task_input(form, request)
    if data is not None:
        try:
            await task_ops.update_task(user, task.id, data, sms_enabled=sms_enabled(request))
        except ValidationFailed as err:
            errors = dict(err.fields)
    if errors:
        context = await _form_context(request, values, errors, task)
        return render(request, "tasks/form.html", context, status=422)
    flash(request, gettext(request, "Changes saved."))
    raise web.HTTPSeeOther(safe_next(values.get("next"), "/tasks"))


async def toggle_done(request: web.Request) -> web.Response:
    """The checkbox of a task row: checked completes it, unchecked reopens it."""
    user = current_user(request)
    task_id = path_id(request)
    form = await form_data(request)
    done = form.get("done") == "1"
    if done:
        await task_ops.complete_task(user, task_id, clock=clock(request), hub=request.app[HUB])
    else:
        await task_ops.reopen_task(user, task_id)
    if done:
        message = gettext(request, "Task completed.")
    else:
        message = gettext(request, "Task reopened.")
    if request.headers.get("Accept", "").startswith("application/json"):
        return web.json_response({"id": task_id, "done": done, "message": message})
    flash(request, message)
    raise web.HTTPSeeOther(safe_next(str(form.get("next", "")), "/tasks"))


async def delete_task(request: web.Request) -> web.Response:
    user = current_user(request)
    await task_ops.delete_task(user, path_id(request))
    flash(request, gettext(request, "Task deleted."))
    raise web.HTTPSeeOther("/tasks")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/tasks", task_list)
    app.router.add_get("/tasks/new", new_task_page)
    app.router.add_post("/tasks/new", create_task)
    app.router.add_get(r"/tasks/{id:\d+}", edit_task_page)
    app.router.add_post(r"/tasks/{id:\d+}", update_task)
    app.router.add_post(r"/tasks/{id:\d+}/done", toggle_done)
    app.router.add_post(r"/tasks/{id:\d+}/delete", delete_task)
