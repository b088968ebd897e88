"""Our own static files, and the npm libraries served under /static/vendor.

The libraries come from the package's own copy in web/static/vendor when it has one (an
installed wheel: setup.py writes it at build time), else from the repository's node_modules
(a checkout or an editable install, after `npm ci`). Either way only the packages named in
package.json are served (pinned there), and a path can never leave its package's folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from web.keys import SERVICES

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Written only into a built package (setup.py); never present in the repository.
PACKAGED_LIBRARIES = STATIC_DIR / "vendor"


@dataclass(frozen=True)
class Libraries:
    """Where the front-end libraries are, and which packages may be served from there."""

    root: Path
    packages: frozenset[str]

    def file(self, package: str, path: str, *, under: str = "") -> Path | None:
        """The file `path` of `package` (inside its folder `under`), or None if not served."""
        if package not in self.packages:
            return None
        base = (self.root / package / under).resolve()
        found = (base / path).resolve()
        if not found.is_relative_to(base) or not found.is_file():
            return None
        return found


LIBRARIES = web.AppKey("front_end_libraries", Libraries)


class VersionedUrls:
    """`/static/<file>?v=<hash of its content>`, so browsers refetch a file that changed.

    aiohttp's own `url_for(append_version=True)` reads and hashes the whole file each time it is
    asked, in the event loop: every page asks for a handful of files, so under load that was a
    fifth of the time spent rendering. The hash is kept per file and computed again only when
    the file's size or modification time changes (a development checkout edited live).
    """

    def __init__(self, directory: Path, prefix: str = "/static/") -> None:
        self._directory = directory.resolve()
        self._prefix = prefix
        # name -> (its resolved path, (size, mtime) when hashed, the URL); a name is resolved
        # and checked to stay in the folder once, then each page only stats the file.
        self._known: dict[str, tuple[Path, tuple[int, int], str]] = {}

    def url(self, filename: str) -> str:
        name = filename.lstrip("/")
        plain = self._prefix + name
        known = self._known.get(name)
        path = known[0] if known else (self._directory / name).resolve()
        if not path.is_relative_to(self._directory):
            return plain
        try:
            stat = path.stat()
        except OSError:
            return plain
        stamp = (stat.st_size, stat.st_mtime_ns)
        if known is None or known[1] != stamp:
            digest = urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
            known = (path, stamp, f"{plain}?v={digest}")
            self._known[name] = known
        return known[2]


STATIC_URLS = web.AppKey("static_urls", VersionedUrls)


def find_libraries(node_modules: Path) -> Libraries:
    """The package's own copy when present, else `node_modules` with the project's package.json."""
    if (PACKAGED_LIBRARIES / "package.json").is_file():
        manifest, root = PACKAGED_LIBRARIES / "package.json", PACKAGED_LIBRARIES
    else:
        manifest, root = node_modules.parent / "package.json", node_modules
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        logger.warning("no readable %s: front-end libraries will not be served", manifest)
        return Libraries(root, frozenset())
    return Libraries(root, frozenset(data.get("dependencies", {})))


async def vendor_file(request: web.Request) -> web.StreamResponse:
    package = request.match_info["package"]
    path = request.app[LIBRARIES].file(package, request.match_info["path"])
    if path is None:
        raise web.HTTPNotFound(text=f"{package} has no such file: run `npm ci` in the project")
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


def setup_routes(app: web.Application) -> None:
    app[LIBRARIES] = find_libraries(app[SERVICES].node_modules)
    app.router.add_get(r"/static/vendor/{package:(@[\w.-]+/)?[\w.-]+}/{path:.+}", vendor_file)
    app.router.add_static("/static/", STATIC_DIR, name="static")
    app[STATIC_URLS] = VersionedUrls(STATIC_DIR)
