"""Small helpers the views share: the current user, form values, safe redirects."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiDictProxy

from models.core.clock import Clock
from models.core.errors import NotFound
from models.core.events import UsersChanged
from models.core.sql import MAX_ID, is_id
from models.schema.users import User
from web.keys import CLOCK, HUB, REQ_USER


def current_user(request: web.Request) -> User:
    user = request.get(REQ_USER)
    if user is None:
        raise web.HTTPSeeOther("/login")
    return user


def clock(request: web.Request) -> Clock:
    return request.app[CLOCK]


def now(request: web.Request) -> datetime:
    return request.app[CLOCK].now()


async def form_data(request: web.Request) -> MultiDictProxy[Any]:
    return await request.post()


def text_values(form: MultiDictProxy[Any]) -> dict[str, str]:
    """The form's text fields (first value of each), to show back what was typed."""
    values: dict[str, str] = {}
    for key in form:
        value = form.get(key)
        if isinstance(value, str) and key != "password" and key != "csrf_token":
            values[key] = value
    return values


def int_param(value: str | None, *, default: int | None = None) -> int | None:
    """A whole number from a query or a form; `default` when there is none, or when it is
    not a number the database's integer columns can hold (such a value names no record and
    no page, and the drivers would refuse it with an error)."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        return default
    return number if -MAX_ID <= number <= MAX_ID else default


def path_id(request: web.Request, name: str = "id") -> int:
    """The id in the path; 404 when it cannot name a record (too large for the database's
    integer ids: PostgreSQL and SQLite would refuse it with an error rather than find none)."""
    try:
        value = int(request.match_info[name])
    except (KeyError, ValueError):
        raise NotFound("bad id") from None
    if not is_id(value):
        raise NotFound("bad id")
    return value


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths, so the login page cannot be used to send people elsewhere."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def redirect(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


def has_route(request: web.Request, path: str) -> bool:
    """Whether a section registered this path (pages link to optional sections only if so)."""
    return any(r.canonical == path for r in request.app.router.resources())


def users_changed(request: web.Request, user_id: int | None) -> None:
    """Tell the rest of the product that a user or an extension changed (the extension
    directory behind pop-ups and call events reloads)."""
    request.app[HUB].publish(UsersChanged(user_id))
