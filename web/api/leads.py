"""/api/v1/leads: list, get, create, change, through models/sales/leads.py (the panel's own
functions). The panel does not delete leads (it closes or converts them): neither does the
API."""

from __future__ import annotations

from aiohttp import web

from models.sales import leads as lead_ops
from models.sales.leads import LeadInput
from models.schema.leads import Lead
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
from web.api.schemas import LeadIn, LeadOut, LeadPage, LeadPatch, LeadQuery
from web.keys import CLOCK, HUB

SORT_COLUMNS = {"id": "id", "name": "name_key"}
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _out(lead: Lead, *, custom: dict[str, str] | None = None) -> LeadOut:
    return LeadOut(
        id=lead.id,
        name=lead.name,
        phones=[p.typed for p in lead.phones],
        emails=[e.address for e in lead.emails],
        company_name=lead.company_name,
        status=lead.status,
        source=lead.source,
        source_tag_id=lead.source_tag_id,
        responsible_id=lead.responsible_id,
        created_at=lead.created_at,
        custom=custom,
        **{k: getattr(lead, k) for k in UTM},
    )


async def list_leads(request: web.Request) -> web.Response:
    query = read_query(request, LeadQuery)
    qs = await lead_ops.leads_matching(
        api_user(request), view=query.view, status=query.status, query=query.q
    )
    rows, cursor = await page(
        request,
        qs.prefetch_related("phones", "emails"),
        order_of(query.sort, SORT_COLUMNS),
        limit=query.limit,
        cursor=query.cursor,
    )
    return answer(LeadPage(items=[_out(x) for x in rows], next_cursor=cursor))


async def get_lead(request: web.Request) -> web.Response:
    lead = await lead_ops.get_lead(api_user(request), path_id(request))
    return answer(_out(lead, custom=custom_of(lead)))


async def create_lead(request: web.Request) -> web.Response:
    body = await read_body(request, LeadIn)
    user = api_user(request)
    data = LeadInput(
        name=body.name,
        phones=body.phones,
        emails=body.emails,
        company_name=body.company_name,
        source="api",
        source_tag_id=body.source_tag_id,
        utm={k: getattr(body, k) for k in UTM if getattr(body, k)},
        custom=custom_values(body.custom),
    )
    lead = await lead_ops.create_lead(
        user, data, unhandled=body.unhandled, clock=request.app[CLOCK], hub=request.app[HUB]
    )
    # Its user's or nobody's (no responsible is given here): the user may see it either way.
    lead = await lead_ops.get_lead(user, lead.id)
    response = answer(_out(lead, custom=custom_of(lead)), status=201)
    response.headers["Location"] = f"/api/v1/leads/{lead.id}"
    return response


async def update_lead(request: web.Request) -> web.Response:
    user = api_user(request)
    lead_id = path_id(request)
    body = await read_body(request, LeadPatch)
    lead = await lead_ops.get_lead(user, lead_id)
    data = LeadInput(
        name=body.name or lead.name,
        phones=kept(body.phones, [p.typed for p in lead.phones]),
        emails=kept(body.emails, [e.address for e in lead.emails]),
        company_name=kept(body.company_name, lead.company_name),
        custom=custom_values(body.custom or {}),
    )
    await lead_ops.update_lead(user, lead_id, data)
    lead = await lead_ops.get_lead(user, lead_id)
    return answer(_out(lead, custom=custom_of(lead)))


async def claim_lead(request: web.Request) -> web.Response:
    """Take an unhandled lead, as the panel's "take" button (a lead the user may not see is
    answered 404 first, so the refusal never names who holds it)."""
    user = api_user(request)
    lead_id = path_id(request)
    await lead_ops.get_lead(user, lead_id)
    await lead_ops.claim_lead(user, lead_id)
    lead = await lead_ops.get_lead(user, lead_id)
    return answer(_out(lead, custom=custom_of(lead)))


async def close_lead(request: web.Request) -> web.Response:
    user = api_user(request)
    lead_id = path_id(request)
    await lead_ops.close_lead(user, lead_id)
    lead = await lead_ops.get_lead(user, lead_id)
    return answer(_out(lead, custom=custom_of(lead)))


ROUTES = [
    Route("GET", "/leads", list_leads, "List leads", query=LeadQuery, answer=LeadPage),
    Route(
        "POST",
        "/leads",
        create_lead,
        "Create a lead (source api)",
        body=LeadIn,
        answer=LeadOut,
        status=201,
        write=True,
    ),
    Route("GET", "/leads/{id}", get_lead, "Get a lead", answer=LeadOut),
    Route(
        "PATCH",
        "/leads/{id}",
        update_lead,
        "Change a lead",
        body=LeadPatch,
        answer=LeadOut,
        write=True,
    ),
    Route(
        "POST",
        "/leads/{id}/claim",
        claim_lead,
        "Take an unhandled lead",
        answer=LeadOut,
        write=True,
    ),
    Route("POST", "/leads/{id}/close", close_lead, "Close a lead", answer=LeadOut, write=True),
]
