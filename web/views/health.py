"""Liveness of the panel and its database."""

from __future__ import annotations

import logging

from aiohttp import web

from web.keys import SERVICES

logger = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[SERVICES].db_ping()
    except Exception as err:  # any driver error means "not reachable"
        logger.warning("health check: database unreachable: %s", err)
        return web.json_response({"status": "error", "database": "unreachable"}, status=503)
    answer = {"status": "ok", "database": "ok"}
    role = request.app[SERVICES].role
    if role is not None:
        answer["role"] = role()
    return web.json_response(answer)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
