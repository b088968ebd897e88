"""/api/v1/deals: list, get, create, change (and move through the funnel) and delete, through
models/sales/deals.py, the panel's own functions.

The domain lists deals by page (offset), so this list's cursor is a position in the chosen
order: a deal added meanwhile may show twice or shift one row (clients and leads use keyset
cursors; deals are far fewer)."""

from __future__ import annotations

import base64
import binascii
import json

from aiohttp import web

from models.core.ordering import Sort
from models.sales import deals as deal_ops
from models.schema.deals import Deal
from web.api.activity_schemas import DealIn, DealOut, DealPage, DealPatch, DealQuery
from web.api.core import Refused, Route, answer, api_user, path_id, read_body, read_query
from web.api.problems import problem
from web.keys import CLOCK, HUB
from web.templating import gettext

MAX_OFFSET = 10_000_000


def _out(deal: Deal) -> DealOut:
    return DealOut(
        id=deal.id,
        title=deal.title,
        client_id=deal.client_id,
        responsible_id=deal.responsible_id,
        status=deal.status,
        amount=f"{deal.amount:.2f}",
        currency=deal.currency,
        created_at=deal.created_at,
        closed_at=deal.closed_at,
    )


def _offset(request: web.Request, cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"=="))
    except (ValueError, binascii.Error, UnicodeError):
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("at"), int):
        value = {"at": -1}
    if not 0 < value["at"] <= MAX_OFFSET:
        raise Refused(
            problem(
                422,
                gettext(request, "Invalid input"),
                gettext(request, "This cursor is not one this list gave: start again without it."),
                "cursor",
            )
        )
    return int(value["at"])


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"at": offset}).encode()).decode().rstrip("=")


async def list_deals(request: web.Request) -> web.Response:
    query = read_query(request, DealQuery)
    offset = _offset(request, query.cursor)
    rows, total = await deal_ops.list_deals(
        api_user(request),
        status=query.status,
        client_id=query.client_id,
        responsible_id=query.responsible_id,
        query=query.q,
        limit=query.limit,
        offset=offset,
        sort=Sort(query.sort.lstrip("-"), query.sort.startswith("-")),
    )
    after = offset + len(rows)
    more = bool(rows) and after < total and after <= MAX_OFFSET
    return answer(
        DealPage(items=[_out(d) for d in rows], next_cursor=_cursor(after) if more else None)
    )


async def get_deal(request: web.Request) -> web.Response:
    return answer(_out(await deal_ops.get_deal(api_user(request), path_id(request))))


async def create_deal(request: web.Request) -> web.Response:
    body = await read_body(request, DealIn)
    user = api_user(request)
    deal = await deal_ops.create_deal(
        user,
        body.client_id,
        body.title,
        body.amount,
        body.currency,
        responsible_id=body.responsible_id,
        clock=request.app[CLOCK],
    )
    response = answer(_out(deal), status=201)
    response.headers["Location"] = f"/api/v1/deals/{deal.id}"
    return response


async def update_deal(request: web.Request) -> web.Response:
    body = await read_body(request, DealPatch)
    deal = await deal_ops.update_deal(
        api_user(request),
        path_id(request),
        title=body.title,
        amount=body.amount,
        currency=body.currency,
        responsible_id=body.responsible_id,
        status=body.status,
        clock=request.app[CLOCK],
        hub=request.app[HUB],
    )
    return answer(_out(deal))


async def delete_deal(request: web.Request) -> web.Response:
    await deal_ops.delete_deal(api_user(request), path_id(request))
    return web.Response(status=204)


ROUTES = [
    Route("GET", "/deals", list_deals, "List deals", query=DealQuery, answer=DealPage),
    Route(
        "POST",
        "/deals",
        create_deal,
        "Create a deal",
        body=DealIn,
        answer=DealOut,
        status=201,
        write=True,
    ),
    Route("GET", "/deals/{id}", get_deal, "Get a deal", answer=DealOut),
    Route(
        "PATCH",
        "/deals/{id}",
        update_deal,
        "Change or move a deal",
        body=DealPatch,
        answer=DealOut,
        write=True,
    ),
    Route("DELETE", "/deals/{id}", delete_deal, "Delete a deal", status=204, write=True),
]
