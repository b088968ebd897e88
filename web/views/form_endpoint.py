"""POST /api/v1/forms/{key}: leads from web forms on the company's sites (E3).

Public: no session, no CSRF (web/middlewares.py: /api/v1 is not the panel's). The form's key
names it; a browser's cross-site call is allowed (CORS) only from the form's allowed origins; a
rate limit per source address and per form (the `limits` library, in this process's memory,
or shared by the instances through the database with `[cluster] enabled`) stops floods.
JSON or form-encoded bodies, at most 64 KiB; a plain HTML form posted without a script lands
on a small thank-you page (with a link back to the page it was on), or on `_redirect`, a page
of an allowed site, when it names one.
Every answer to an accepted submission is the same, whether it made a lead, a note on a known
contact or nothing (the honeypot): the endpoint tells nobody who is known.
Errors are application/problem+json (RFC 9457) naming the field.
"""

from __future__ import annotations

import html
import json
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web
from limits import RateLimitItem, parse

from models.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from models.core.shared_rate_limits import limiter, seconds_to_wait
from models.sales import form_leads
from web.api.problems import problem
from web.keys import CLOCK, HUB, LOGIN_POLICY, REQ_LANG, SETTINGS
from web.templating import gettext, say

MAX_BODY = 64 * 1024


class FormLimiter:
    """How many submissions a source address, and a form, may send in a moving window.
    `shared`: counted in the database with the other instances (`[cluster] enabled`)."""

    def __init__(
        self, per_address: str = "10/minute", per_form: str = "300/minute", *, shared: bool = False
    ) -> None:
        self._limiter = limiter(shared=shared)
        self.per_address: RateLimitItem = parse(per_address)
        self.per_form: RateLimitItem = parse(per_form)

    async def hit(self, key: str | None, address: str) -> int | None:
        """None when the submission may go on, else the seconds to wait. A malformed key
        (None) names no form: it counts against the address only."""
        counted = [(self.per_address, ("address", address))]
        if key is not None:
            counted.append((self.per_form, ("form", key)))
        for item, ids in counted:
            wait = await seconds_to_wait(self._limiter, item, "web-form", *ids)
            if wait:
                return wait
        return None


FORM_LIMITER: web.AppKey[FormLimiter] = web.AppKey("form_limiter", FormLimiter)


def _no_form(request: web.Request) -> web.Response:
    return problem(
        404,
        gettext(request, "No such form"),
        gettext(request, "Check the form's address: it may have been removed or switched off."),
    )


def _cors(origin: str | None) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}


async def _body(request: web.Request) -> dict[str, object]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ValidationFailed({"body": gettext(request, "The submission is too large.")})
    raw = bytearray()
    while chunk := await request.content.read(MAX_BODY + 1 - len(raw)):
        raw += chunk
        if len(raw) > MAX_BODY:
            raise ValidationFailed({"body": gettext(request, "The submission is too large.")})
    kind = request.content_type
    if kind == "application/json":
        try:
            data = json.loads(bytes(raw).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ValidationFailed({"body": gettext(request, "Expected a JSON object.")}) from None
        if not isinstance(data, dict):
            raise ValidationFailed({"body": gettext(request, "Expected a JSON object.")})
        return data
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(bytes(raw).decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise ValidationFailed({"body": gettext(request, "Expected UTF-8 text.")}) from None
        return dict(pairs)
    raise ValidationFailed(
        {"body": gettext(request, "Send JSON or a form (application/x-www-form-urlencoded).")}
    )


def _redirect_target(data: dict[str, object], form_origins: list[str]) -> str | None:
    value = data.get("_redirect")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(value)
    parts = urlsplit(value.strip())
    origin = form_leads.normalize_origin(f"{parts.scheme}://{parts.netloc}")
    if origin is None or origin not in form_origins:
        raise ValueError(value)
    return value.strip()


def _wants_page(request: web.Request) -> bool:
    """A plain HTML form posted by the browser itself (no script): it shows what we answer."""
    return request.content_type == "application/x-www-form-urlencoded" and (
        "text/html" in request.headers.get("Accept", "")
    )


def _back_to(request: web.Request, form_origins: list[str]) -> str | None:
    """The page the form was on, when it is one of the form's sites."""
    referer = request.headers.get("Referer", "")
    try:
        parts = urlsplit(referer)
    except ValueError:  # "http://[" and the like
        return None
    origin = form_leads.normalize_origin(f"{parts.scheme}://{parts.netloc}") if referer else None
    return referer if origin is not None and origin in form_origins else None


def _thanks_page(request: web.Request, back: str | None) -> web.Response:
    """The small page a plain HTML form lands on, in the reader's language."""
    title = html.escape(gettext(request, "Thank you"))
    text = html.escape(gettext(request, "We have received your message and will contact you soon."))
    link = (
        f'<p><a href="{html.escape(back)}">{html.escape(gettext(request, "Back"))}</a></p>'
        if back
        else ""
    )
    lang = html.escape(str(request.get(REQ_LANG, "es")))
    page = (
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{title}</title><body style="font-family:sans-serif;margin:3em auto;'
        f'max-width:30em"><h1>{title}</h1><p>{text}</p>{link}</body></html>'
    )
    return web.Response(text=page, content_type="text/html", status=201)


def _too_many(request: web.Request, wait: int) -> web.Response:
    return problem(
        429,
        gettext(request, "Too many submissions"),
        gettext(request, "Try again in %(seconds)s seconds.", seconds=wait),
        headers={"Retry-After": str(wait)},
    )


def _not_allowed(request: web.Request) -> web.Response:
    return problem(
        403,
        gettext(request, "Origin not allowed"),
        gettext(request, "This site may not post to this form."),
    )


async def submit(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    origin = request.headers.get("Origin")
    address = request.app[LOGIN_POLICY].client_address(request)
    wait = await request.app[FORM_LIMITER].hit(key if form_leads.is_key(key) else None, address)
    if wait is not None:
        return _too_many(request, wait)
    try:
        form = await form_leads.find_form(key)
    except NotFound:
        return _no_form(request)
    if not form_leads.origin_allowed(form, origin):
        return _not_allowed(request)  # and no CORS headers: the browser hides the answer
    headers = _cors(origin)
    try:
        data = await _body(request)
        try:
            target = _redirect_target(data, form.allowed_origins)
        except ValueError:
            raise ValidationFailed(
                {"_redirect": gettext(request, "Only a page of an allowed site.")}
            ) from None
        await form_leads.take_submission(
            key, data, origin=origin, clock=request.app[CLOCK], hub=request.app[HUB]
        )
    except ValidationFailed as err:
        fields = {name: say(request, text) for name, text in err.fields.items()}
        return problem(
            422,
            gettext(request, "The submission has errors"),
            "; ".join(f"{name}: {text}" for name, text in fields.items()),
            errors=fields,
            headers=headers,
        )
    except NotFound:  # switched off or deleted meanwhile
        return _no_form(request)
    except PermissionDenied:
        return _not_allowed(request)
    except Conflict:  # the same number taken by a lead created at this very moment
        return problem(
            409,
            gettext(request, "Try again"),
            gettext(request, "The submission crossed another one; send it again."),
            headers=headers,
        )
    if target is not None:
        raise web.HTTPSeeOther(target, headers=headers)
    if _wants_page(request):
        return _thanks_page(request, _back_to(request, form.allowed_origins))
    return web.json_response({"status": "received"}, status=201, headers=headers)


async def preflight(request: web.Request) -> web.Response:
    """The browser's CORS preflight: allowed only from the form's allowed origins."""
    origin = request.headers.get("Origin")
    try:
        form = await form_leads.find_form(request.match_info["key"])
    except NotFound:
        return _no_form(request)
    if not origin or not form_leads.origin_allowed(form, origin):
        return _not_allowed(request)
    return web.Response(
        status=204,
        headers={
            **_cors(origin),
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        },
    )


def setup_routes(app: web.Application) -> None:
    app[FORM_LIMITER] = FormLimiter(shared=app[SETTINGS].cluster.enabled)
    app.router.add_post("/api/v1/forms/{key}", submit)
    app.router.add_route("OPTIONS", "/api/v1/forms/{key}", preflight)
