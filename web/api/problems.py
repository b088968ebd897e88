"""Errors of the public API as `application/problem+json` (RFC 9457).

Every error answer of /api/v1 has this shape: `type` (here always "about:blank": the status
says what kind of problem it is), `title` (short, the same for every problem of one status),
`status`, `detail` (this occurrence, in the reader's language) and, when one input is wrong,
`field` naming it; several wrong inputs are listed in `errors` as {"field", "detail"} pairs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aiohttp import web

from web.templating import gettext

CONTENT_TYPE = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str,
    field: str | None = None,
    *,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """An RFC 9457 problem answer. `field` names the input that is wrong; `errors` lists
    several (field -> detail), and the first of them becomes `field` when none is given."""
    body: dict[str, object] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"field": name, "detail": text} for name, text in errors.items()]
        field = field or next(iter(errors))
    if field:
        body["field"] = field
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=CONTENT_TYPE,
        charset="utf-8",
        headers=headers,
    )


def refusal(request: web.Request, status: int, detail: str) -> web.Response:
    """The problem answer of an /api/v1 path refused before any API handler ran (no such
    path, or a domain error that escaped): the error middleware's answer there."""
    titles = {
        400: gettext(request, "Bad request"),
        403: gettext(request, "Forbidden"),
        404: gettext(request, "Not found"),
        409: gettext(request, "Conflict"),
        405: gettext(request, "Method not allowed"),
        413: gettext(request, "Payload too large"),
        422: gettext(request, "Invalid input"),
    }
    return problem(status, titles.get(status, detail), detail)
