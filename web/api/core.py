"""What every /api/v1 call goes through: the Bearer token, the scope, the per-token rate
limit, and errors answered as problem+json (web/api/problems.py).

A token acts as its user: the handlers call the same domain functions as the panel's views,
so the permission rules are the same code. There is no session and no CSRF check for these
calls (web/middlewares.py lets /api/v1/ through): a browser's cookie is never enough.

The rate limit is the `limits` library's: a moving window in this process's memory, or with
`[cluster] enabled` a sliding window counter in the database, so that every instance behind
the load balancer counts the same calls (models/core/shared_rate_limits.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from aiohttp import web
from limits import parse
from pydantic import BaseModel, ValidationError

from models.core.errors import Conflict, CrmError, NotFound, PermissionDenied, ValidationFailed
from models.core.shared_rate_limits import limiter, seconds_to_wait
from models.core.translation import set_reader_language
from models.people import api_tokens
from models.schema.users import User
from web.api.problems import problem
from web.keys import CLOCK, LOGIN_POLICY, REQ_LANG, REQ_USER
from web.templating import gettext, say

logger = logging.getLogger(__name__)

DEFAULT_RATE = "600/minute"  # [web] api_calls_per_minute sets it (web/api/__init__.py)
REQ_SCOPE = web.RequestKey("crm_api_scope", str)
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
ApiHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RateLimit:
    """Calls allowed per token in a moving window; `set_rate("5/minute")` changes it.
    `shared`: counted in the database with the other instances (`[cluster] enabled`)."""

    def __init__(self, rate: str = DEFAULT_RATE, *, shared: bool = False) -> None:
        self._limiter = limiter(shared=shared)
        self.set_rate(rate)

    def set_rate(self, rate: str) -> None:
        self.item = parse(rate)

    async def hit(self, key: str) -> int:
        """0 when the call may go on, else the seconds to wait before the next one."""
        return await seconds_to_wait(self._limiter, self.item, key)


API_RATE = web.AppKey("crm_api_rate", RateLimit)


def _problem_of(request: web.Request, err: Exception) -> web.Response:
    if isinstance(err, ValidationFailed):
        errors = {name: say(request, text) for name, text in err.fields.items()}
        detail = "; ".join(f"{name}: {text}" for name, text in errors.items())
        return problem(422, gettext(request, "Invalid input"), detail, errors=errors)
    if isinstance(err, NotFound):
        return problem(404, gettext(request, "Not found"), say(request, err.args[0]))
    if isinstance(err, PermissionDenied):
        text = say(request, err.args[0]) if err.args else gettext(request, "Access denied")
        return problem(403, gettext(request, "Forbidden"), text)
    if isinstance(err, Conflict):
        field = getattr(err, "field", None)
        text = say(request, err.args[0]) if err.args else ""
        return problem(409, gettext(request, "Conflict"), text, field or None)
    text = say(request, err.args[0]) if err.args else ""
    return problem(409, gettext(request, "Conflict"), text)


def invalid(request: web.Request, err: ValidationError, where: str = "") -> web.Response:
    """A pydantic refusal as a 422 problem naming each wrong field (`where`: "query.")."""
    errors: dict[str, str] = {}
    for item in err.errors(include_url=False):
        name = where + ".".join(str(part) for part in item["loc"]) if item["loc"] else "body"
        errors.setdefault(name, item["msg"])
    detail = "; ".join(f"{name}: {text}" for name, text in errors.items())
    return problem(422, gettext(request, "Invalid input"), detail, errors=errors)


class Refused(Exception):
    """A ready problem answer raised from a helper (a bad body, a bad cursor)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def read_body(request: web.Request, model: type[M]) -> M:
    """The JSON body validated with `model`, or Refused with a problem naming the field."""
    if request.content_type != "application/json":
        raise Refused(
            problem(
                415,
                gettext(request, "Unsupported media type"),
                gettext(request, "Send the body as application/json."),
                "body",
            )
        )
    try:
        data: Any = await request.json()
    except ValueError:
        raise Refused(
            problem(
                400,
                gettext(request, "Bad request"),
                gettext(request, "The body is not valid JSON."),
                "body",
            )
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise Refused(invalid(request, err)) from None


def read_query(request: web.Request, model: type[M]) -> M:
    """The query string validated with `model` (each parameter once)."""
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as err:
        raise Refused(invalid(request, err)) from None


def api_user(request: web.Request) -> User:
    return request[REQ_USER]


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def endpoint(*, write: bool = False) -> Callable[[ApiHandler], ApiHandler]:
    """Wraps an API handler: authenticates the token (a write handler needs scope "write"),
    counts it against the rate limit, and turns every refusal into a problem answer."""

    def wrap(handler: ApiHandler) -> ApiHandler:
        async def run(request: web.Request) -> web.StreamResponse:
            token = _bearer(request)
            unauthorized = {"WWW-Authenticate": 'Bearer realm="centralita"'}
            if token is None:
                return problem(
                    401,
                    gettext(request, "Unauthorized"),
                    gettext(request, "Send an API token: Authorization: Bearer <token>."),
                    headers=unauthorized,
                )
            try:
                user, scope = await api_tokens.authenticate(
                    token,
                    clock=request.app[CLOCK],
                    # behind a trusted reverse proxy: the caller's address, not the proxy's
                    address=request.app[LOGIN_POLICY].client_address(request),
                )
            except PermissionDenied as err:
                return problem(
                    401,
                    gettext(request, "Unauthorized"),
                    say(request, err.args[0]),
                    headers=unauthorized,
                )
            request[REQ_USER] = user
            request[REQ_SCOPE] = scope
            request[REQ_LANG] = user.language or request[REQ_LANG]
            set_reader_language(request[REQ_LANG])
            wait = await request.app[API_RATE].hit(hashlib.sha256(token.encode()).hexdigest())
            if wait:
                return problem(
                    429,
                    gettext(request, "Too many requests"),
                    gettext(request, "Too many calls with this token: wait %(s)s s.", s=wait),
                    headers={"Retry-After": str(wait)},
                )
            if write and scope != "write":
                return problem(
                    403,
                    gettext(request, "Forbidden"),
                    gettext(
                        request, "This token may only read: create a token with the write scope."
                    ),
                )
            try:
                return await handler(request)
            except Refused as refused:
                return refused.response
            except CrmError as err:
                return _problem_of(request, err)

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__
        return run

    return wrap


class Route:
    """One API operation: how it is served and how the OpenAPI document describes it."""

    def __init__(
        self,
        method: str,
        path: str,
        handler: ApiHandler,
        summary: str,
        *,
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        answer: type[BaseModel] | None = None,
        status: int = 200,
        write: bool = False,
    ) -> None:
        self.method = method
        self.path = path  # under /api/v1, with {id} for a record
        self.handler = endpoint(write=write)(handler)
        self.summary = summary
        self.query, self.body, self.answer = query, body, answer
        self.status = status
        self.write = write


def path_id(request: web.Request) -> int:
    """The {id} of the path (the route admits digits only; a huge one is a missing record)."""
    value = int(request.match_info["id"])
    if value > 2**31 - 1:
        raise NotFound(gettext(request, "Not found"))
    return value


def answer(model: BaseModel, status: int = 200) -> web.Response:
    """A JSON answer of one of the API's answer classes (web/api/schemas.py)."""
    return web.json_response(text=model.model_dump_json(), status=status)


def kept(given: T | None, current: T) -> T:
    """A PATCH field: the given value, or the current one when it was left out (or null)."""
    return current if given is None else given


def custom_values(values: Mapping[str, object]) -> dict[str, object]:
    """Custom field values from JSON as the panel's form gives them: text, a number, a
    true/false choice, or "" for null (which clears the value)."""
    return {
        k: ("" if v is None else str(v).lower() if isinstance(v, bool) else v)
        for k, v in values.items()
    }


def custom_of(record: object) -> dict[str, str]:
    """The custom values the domain's get_client / get_lead put on the record they read."""
    values: dict[str, str] = getattr(record, "custom", {})
    return values
