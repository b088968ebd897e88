"""The search box at the top of every page (C1): clients and leads found by one text, grouped.

Each group shows the first rows and how many match in all, with a link to its list searched
the same way (/clients?q=, /leads?q=), where the rest is paged and filtered.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from models.contacts import clients as client_ops
from models.sales import leads as lead_ops
from web.templating import render
from web.views.common import current_user

SHOWN = 10


async def search_page(request: web.Request) -> web.Response:
    user = current_user(request)
    text = request.query.get("q", "").strip()
    if not text:
        raise web.HTTPSeeOther("/clients")
    clients, clients_total = await client_ops.list_clients(user, query=text, limit=SHOWN)
    # Every lead the user may see, whatever its status: a search looks for one person.
    leads, leads_total = await lead_ops.list_leads(
        user, view="all", status=None, query=text, limit=SHOWN
    )
    context = {
        "q": text,
        "clients": clients,
        "clients_total": clients_total,
        "clients_link": "/clients?" + urlencode({"q": text}),
        "leads": leads,
        "leads_total": leads_total,
        "leads_link": "/leads?" + urlencode({"view": "all", "status": "any", "q": text}),
        "count_cap": client_ops.SEARCH_COUNT_CAP,
    }
    return render(request, "search.html", context)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/search", search_page)
