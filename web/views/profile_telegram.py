"""The profile's Telegram section (issue 15 item 7): a one-time link code with its t.me link,
the linked chat, and unlinking it.

The code is shown once, on the page that answers "Get a link code": the database keeps only
its hash, so the page cannot show it again later. The section itself is the template partial
settings/_telegram.html, included by the profile page; it reads the linked chat from the user
and the fresh code through `telegram_code()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from models.messaging import telegram_links as telegram
from web.keys import CLOCK
from web.templating import flash, gettext
from web.views.common import current_user, now
from web.views.settings_pages import profile_page


@dataclass(frozen=True)
class FreshCode:
    """A code just made for this request's user, with its t.me link when the bot is known."""

    code: str
    expires_at: datetime
    link: str


REQ_FRESH_CODE = web.RequestKey("crm_telegram_code", FreshCode)


@jinja2.pass_context
def _telegram_code(context: Any) -> FreshCode | None:
    request: web.Request = context["request"]
    return request.get(REQ_FRESH_CODE)


async def new_code(request: web.Request) -> web.StreamResponse:
    """Make a code and answer with the profile page showing it (not a redirect: it is not
    stored in a form the next page could show)."""
    user = current_user(request)
    code = await telegram.create_link_code(user, clock=request.app[CLOCK])
    username = await telegram.bot_username()
    request[REQ_FRESH_CODE] = FreshCode(
        code=code,
        expires_at=now(request) + telegram.CODE_TTL,
        link=telegram.deep_link(username, code) if username else "",
    )
    response = await profile_page(request)
    response.headers["Cache-Control"] = "no-store"
    return response


async def unlink(request: web.Request) -> web.Response:
    user = current_user(request)
    if await telegram.unlink_user(user):
        flash(request, gettext(request, "Telegram chat unlinked. The bot no longer writes to it."))
    else:
        flash(request, gettext(request, "No Telegram chat was linked."), "error")
    raise web.HTTPSeeOther("/settings/profile#telegram")


def setup_routes(app: web.Application) -> None:
    aiohttp_jinja2.get_env(app).globals["telegram_code"] = _telegram_code
    app.router.add_post("/settings/telegram/code", new_code)
    app.router.add_post("/settings/telegram/unlink", unlink)
