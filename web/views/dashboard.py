"""The dashboard (D1, D2): every widget, reordered by drag and drop and hidden per user."""

from __future__ import annotations

import json

from aiohttp import web

from models.people import profile
from models.reporting.dashboard import dashboard_numbers
from models.work.tasks import KIND_LABELS
from web.templating import gettext, render
from web.views.common import clock, current_user
from web.views.pbx_doctor import dashboard_problems


async def dashboard(request: web.Request) -> web.Response:
    user = current_user(request)
    layout = profile.dashboard_layout(user)
    context = {
        "n": await dashboard_numbers(user, clock(request)),
        "order": layout["order"],
        "hidden": layout["hidden"],
        "kinds": KIND_LABELS,
        "pbx_problems": dashboard_problems(request),
    }
    return render(request, "dashboard.html", context)


async def save_layout(request: web.Request) -> web.Response:
    """Saved by the page after a drag or a hide/show (a CSRF-protected fetch)."""
    user = current_user(request)
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return web.json_response({"error": "expected a JSON body"}, status=400)
    order = body.get("order") if isinstance(body, dict) else None
    hidden = body.get("hidden") if isinstance(body, dict) else None
    if not isinstance(order, list) or not isinstance(hidden, list):
        return web.json_response({"error": "expected order and hidden lists"}, status=400)
    layout = await profile.save_dashboard_layout(
        user, [str(w) for w in order], [str(w) for w in hidden]
    )
    return web.json_response({**layout, "message": gettext(request, "Dashboard layout saved.")})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", dashboard)
    app.router.add_post("/api/dashboard/layout", save_layout)
