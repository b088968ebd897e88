"""/api/v1/tasks: list, get, create, tick done and delete, through models/work/tasks.py (the
panel's own functions: the same scope rules and checks). SMS tasks are the panel's alone."""

from __future__ import annotations

from aiohttp import web

from models.schema.tasks import Task
from models.work import tasks as task_ops
from web.api.activity_schemas import TaskIn, TaskOut, TaskPage, TaskQuery
from web.api.core import Route, answer, api_user, path_id, read_body, read_query
from web.api.paging import order_of, page
from web.keys import CLOCK, HUB

SORT_COLUMNS = {"id": "id"}


def _out(task: Task) -> TaskOut:
    return TaskOut(
        id=task.id,
        title=task.title,
        kind=task.kind,
        description=task.description,
        due_at=task.due_at,
        duration_minutes=task.duration_minutes,
        is_done=task.is_done,
        done_at=task.done_at,
        author_id=task.author_id,
        assignee_ids=sorted(a.id for a in task.assignees),
        client_id=task.client_id,
        lead_id=task.lead_id,
        deal_id=task.deal_id,
    )


async def list_tasks(request: web.Request) -> web.Response:
    query = read_query(request, TaskQuery)
    qs = task_ops.tasks_matching(
        api_user(request),
        scope=query.scope,
        status=query.status,
        query=query.q,
        client_id=query.client_id,
        lead_id=query.lead_id,
        deal_id=query.deal_id,
        clock=request.app[CLOCK],
    )
    rows, cursor = await page(
        request,
        qs.prefetch_related("assignees"),
        order_of(query.sort, SORT_COLUMNS),
        limit=query.limit,
        cursor=query.cursor,
    )
    return answer(TaskPage(items=[_out(t) for t in rows], next_cursor=cursor))


async def get_task(request: web.Request) -> web.Response:
    return answer(_out(await task_ops.get_task(api_user(request), path_id(request))))


async def create_task(request: web.Request) -> web.Response:
    body = await read_body(request, TaskIn)
    user = api_user(request)
    data = task_ops.TaskInput(**body.model_dump())
    task = await task_ops.create_task(user, data, clock=request.app[CLOCK])
    response = answer(_out(await task_ops.get_task(user, task.id)), status=201)
    response.headers["Location"] = f"/api/v1/tasks/{task.id}"
    return response


async def complete_task(request: web.Request) -> web.Response:
    user = api_user(request)
    task_id = path_id(request)
    await task_ops.complete_task(user, task_id, clock=request.app[CLOCK], hub=request.app[HUB])
    return answer(_out(await task_ops.get_task(user, task_id)))


async def delete_task(request: web.Request) -> web.Response:
    await task_ops.delete_task(api_user(request), path_id(request))
    return web.Response(status=204)


ROUTES = [
    Route("GET", "/tasks", list_tasks, "List tasks", query=TaskQuery, answer=TaskPage),
    Route(
        "POST",
        "/tasks",
        create_task,
        "Create a task",
        body=TaskIn,
        answer=TaskOut,
        status=201,
        write=True,
    ),
    Route("GET", "/tasks/{id}", get_task, "Get a task", answer=TaskOut),
    Route(
        "POST", "/tasks/{id}/done", complete_task, "Tick a task done", answer=TaskOut, write=True
    ),
    Route("DELETE", "/tasks/{id}", delete_task, "Delete a task", status=204, write=True),
]
