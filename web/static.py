"""Our own static files, and the npm libraries served from node_modules under /static/vendor.

Only packages listed in the repository's package.json are served (pinned there, installed
by `npm ci`); a path can never leave its package's directory.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from aiohttp import web

from web.keys import SERVICES

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_PACKAGES = web.AppKey("vendor_packages", frozenset)


def declared_packages(node_modules: Path) -> frozenset[str]:
    manifest = node_modules.parent / "package.json"
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        logger.warning("no readable %s: front-end libraries will not be served", manifest)
        return frozenset()
    return frozenset(data.get("dependencies", {}))


async def vendor_file(request: web.Request) -> web.StreamResponse:
    package = request.match_info["package"]
    if package not in request.app[VENDOR_PACKAGES]:
        raise web.HTTPNotFound()
    root = (request.app[SERVICES].node_modules / package).resolve()
    path = (root / request.match_info["path"]).resolve()
    if not path.is_relative_to(root):
        raise web.HTTPNotFound()
    if not path.is_file():
        raise web.HTTPNotFound(text=f"{package} is not installed: run `npm ci` in the project")
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


def setup_routes(app: web.Application) -> None:
    app[VENDOR_PACKAGES] = declared_packages(app[SERVICES].node_modules)
    app.router.add_get(r"/static/vendor/{package:(@[\w.-]+/)?[\w.-]+}/{path:.+}", vendor_file)
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=True)
