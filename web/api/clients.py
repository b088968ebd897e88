"""/api/v1/clients: list, get, create, change, delete, through models/contacts/clients.py
(the functions the panel's views call, so the permission rules are the same)."""

from __future__ import annotations

from aiohttp import web

from models.contacts import clients as client_ops
from models.contacts.clients import ClientInput
from models.core.errors import NotFound
from models.schema.clients import Client
from web.api.core import (
    Route,
    answer,
    api_user,
    custom_of,
    custom_values,
    kept,
    path_id,
    read_body,
    read_query,
)
from web.api.paging import order_of, page
from web.api.schemas import ClientIn, ClientOut, ClientPage, ClientPatch, ClientQuery
from web.keys import CLOCK, HUB

SORT_COLUMNS = {"id": "id", "name": "name_key"}


def _out(client: Client, *, custom: dict[str, str] | None = None) -> ClientOut:
    return ClientOut(
        id=client.id,
        name=client.name,
        phones=[p.typed for p in client.phones],
        emails=[e.address for e in client.emails],
        company_name=client.company_name,
        status=client.status,
        type=client.type,
        tags=[t.name for t in client.tags],
        responsible_id=client.responsible_id,
        source_tag_id=client.source_tag_id,
        created_at=client.created_at,
        custom=custom,
    )


async def list_clients(request: web.Request) -> web.Response:
    user = api_user(request)
    query = read_query(request, ClientQuery)
    qs = await client_ops.clients_matching(
        user,
        mine=query.mine,
        query=query.q,
        tag=query.tag,
        status=query.status,
        responsible_id=query.responsible_id,
    )
    rows, cursor = await page(
        request,
        qs.prefetch_related("phones", "emails", "tags"),
        order_of(query.sort, SORT_COLUMNS),
        limit=query.limit,
        cursor=query.cursor,
    )
    return answer(ClientPage(items=[_out(c) for c in rows], next_cursor=cursor))


async def get_client(request: web.Request) -> web.Response:
    client = await client_ops.get_client(api_user(request), path_id(request))
    return answer(_out(client, custom=custom_of(client)))


async def create_client(request: web.Request) -> web.Response:
    body = await read_body(request, ClientIn)
    data = ClientInput(**{**body.model_dump(), "custom": custom_values(body.custom)})
    user = api_user(request)
    client = await client_ops.create_client(
        user, data, clock=request.app[CLOCK], hub=request.app[HUB]
    )
    try:
        client = await client_ops.get_client(user, client.id)
        custom: dict[str, str] | None = custom_of(client)
    except NotFound:
        # Made for another user whose clients this one may not see: answered as given.
        await client.fetch_related("phones", "emails", "tags")
        custom = None
    response = answer(_out(client, custom=custom), status=201)
    response.headers["Location"] = f"/api/v1/clients/{client.id}"
    return response


async def update_client(request: web.Request) -> web.Response:
    user = api_user(request)
    client_id = path_id(request)
    body = await read_body(request, ClientPatch)
    client = await client_ops.get_client(user, client_id)
    data = ClientInput(
        name=body.name or client.name,
        phones=kept(body.phones, [p.typed for p in client.phones]),
        emails=kept(body.emails, [e.address for e in client.emails]),
        company_name=kept(body.company_name, client.company_name),
        status=body.status or client.status,
        type=body.type or client.type,
        tags=kept(body.tags, [t.name for t in client.tags]),
        responsible_id=body.responsible_id,  # None: unchanged
        source_tag_id=body.source_tag_id,  # None: unchanged
        # Only the given custom values change (the domain keeps the others).
        custom=custom_values(body.custom or {}),
    )
    client = await client_ops.update_client(user, client_id, data)
    return answer(_out(client, custom=custom_of(client)))


async def delete_client(request: web.Request) -> web.Response:
    await client_ops.delete_client(api_user(request), path_id(request))
    return web.Response(status=204)


ROUTES = [
    Route("GET", "/clients", list_clients, "List clients", query=ClientQuery, answer=ClientPage),
    Route(
        "POST",
        "/clients",
        create_client,
        "Create a client",
        body=ClientIn,
        answer=ClientOut,
        status=201,
        write=True,
    ),
    Route("GET", "/clients/{id}", get_client, "Get a client", answer=ClientOut),
    Route(
        "PATCH",
        "/clients/{id}",
        update_client,
        "Change a client",
        body=ClientPatch,
        answer=ClientOut,
        write=True,
    ),
    Route("DELETE", "/clients/{id}", delete_client, "Delete a client", status=204, write=True),
]
