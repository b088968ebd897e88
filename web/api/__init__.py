"""The public REST API under /api/v1 (issue 18): clients, leads, deals, tasks, notes, calls and
users for outside programs, authenticated with a user's API token (models/people/api_tokens.py).

Each module lists its operations as ROUTES (web/api/core.py Route); this package registers them
and serves the OpenAPI document made from the same classes at /api/v1/openapi.json.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web

from web.api import calls, clients, deals, leads, notes, tasks, users
from web.api.core import API_RATE, RateLimit, Route
from web.api.openapi import build_document
from web.keys import SETTINGS

PREFIX = "/api/v1"
ROUTES: list[Route] = [
    *clients.ROUTES,
    *leads.ROUTES,
    *deals.ROUTES,
    *notes.ROUTES,
    *tasks.ROUTES,
    *calls.ROUTES,
    *users.ROUTES,
]
OPENAPI_DOCUMENT = web.AppKey("crm_openapi_document", str)


def _version() -> str:
    try:
        return version("centralita-crm")
    except PackageNotFoundError:
        return "0"


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(text=request.app[OPENAPI_DOCUMENT], content_type="application/json")


def setup_routes(app: web.Application) -> None:
    settings = app[SETTINGS]
    app[API_RATE] = RateLimit(
        f"{settings.web.api_calls_per_minute}/minute", shared=settings.cluster.enabled
    )
    app[OPENAPI_DOCUMENT] = json.dumps(build_document(ROUTES, version=_version()))
    app.router.add_get(PREFIX + "/openapi.json", openapi_json)
    for route in ROUTES:
        path = PREFIX + route.path.replace("{id}", r"{id:\d+}")
        app.router.add_route(route.method, path, route.handler)
