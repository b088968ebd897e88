"""/api/v1/calls (read only): the calls the token's user may see, through
models/telephony/call_history.py (own calls, or all with calls.view_all, as in the panel).
Recordings are not served here: the panel plays them."""

from __future__ import annotations

from aiohttp import web

from models.schema.calls import Call
from models.telephony import call_history
from web.api.activity_schemas import CallOut, CallPage, CallQuery
from web.api.core import Route, answer, api_user, path_id, read_query
from web.api.paging import order_of, page

SORT_COLUMNS = {"id": "id"}


def _out(call: Call) -> CallOut:
    return CallOut(
        id=call.id,
        direction=call.direction,
        result=call.result,
        from_number=call.from_number,
        to_number=call.to_number,
        did=call.did,
        agent_id=call.agent_id,
        client_id=call.client_id,
        lead_id=call.lead_id,
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        wait_seconds=call.wait_seconds,
        talk_seconds=call.talk_seconds,
        has_recording=bool(call.recording_path),
    )


async def list_calls(request: web.Request) -> web.Response:
    query = read_query(request, CallQuery)
    filters = call_history.CallFilter(
        user_id=query.user_id,
        direction=query.direction or "",
        result=query.result or "",
        client_id=query.client_id,
    )
    qs = call_history.calls_matching(api_user(request), filters)
    rows, cursor = await page(
        request, qs, order_of(query.sort, SORT_COLUMNS), limit=query.limit, cursor=query.cursor
    )
    return answer(CallPage(items=[_out(c) for c in rows], next_cursor=cursor))


async def get_call(request: web.Request) -> web.Response:
    return answer(_out(await call_history.get_call(api_user(request), path_id(request))))


ROUTES = [
    Route("GET", "/calls", list_calls, "List calls", query=CallQuery, answer=CallPage),
    Route("GET", "/calls/{id}", get_call, "Get a call", answer=CallOut),
]
