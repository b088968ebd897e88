"""The calls page (L1): filters, wait and talk time, the recording played in the page.

Recordings are served with HTTP range requests (aiohttp's FileResponse answers Range with 206, so
the browser can seek), only to users who may see the call, and only from the recordings folder.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web

from models.core.errors import ValidationFailed
from models.people.permissions import has_right
from models.people.team import roster
from models.reporting.periods import day_filter, local_days, user_zone
from models.schema.users import User
from models.telephony import call_history as call_list
from models.telephony.call_history import DIRECTIONS, RESULTS, CallFilter
from web.keys import SETTINGS
from web.listing import Page, fetch_page, read_listing
from web.templating import render
from web.views.common import current_user, int_param, now, path_id

logger = logging.getLogger(__name__)

PERIODS = ("today", "7d", "30d")


def recordings_dir(request: web.Request) -> Path:
    settings = request.app[SETTINGS]
    configured = settings.ami.recordings_dir
    return Path(configured) if configured else Path(settings.data_dir) / "recordings"


def filter_from(query: Any, user: User, current: datetime) -> CallFilter:
    """The filter form's values, the period and the dates read as the user's own days."""
    today = current.astimezone(user_zone(user)).date()
    back = {"today": 0, "7d": 6, "30d": 29}.get(query.get("period", ""))
    days = day_filter(user, query.get("from"), query.get("to"))
    if days.first is None and back is not None:  # a "from" date wins over the period
        days = local_days(user, today - timedelta(days=back), days.last)
    return CallFilter(
        user_id=int_param(query.get("user")),
        direction=query.get("direction", ""),
        result=query.get("result", ""),
        since=days.start,
        until=days.end,
        client_id=int_param(query.get("client")),
        text=query.get("q", "").strip()[:200],
    )


def duration(seconds: int) -> str:
    minutes, secs = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


async def calls_page(request: web.Request) -> web.Response:
    user = current_user(request)
    listing = read_listing(request, call_list.SORTS)
    errors: dict[str, str] = {}
    try:
        filters = filter_from(request.query, user, now(request))
        fetch = partial(call_list.list_calls, user, filters, sort=listing.sort)
        page = await fetch_page(listing, fetch, cap=call_list.COUNT_CAP)
    except ValidationFailed as err:
        errors = err.fields
        page = Page(rows=[], total=0, number=1, per_page=listing.per_page, pages=1)
    view_all = has_right(user, "calls.view_all")
    users = await roster() if view_all else []
    status = 422 if errors else 200
    return render(
        request,
        "calls/list.html",
        {
            "calls": page.rows,
            "total": page.total,
            "count_cap": call_list.COUNT_CAP,
            "paging": page,
            "listing": listing,
            "query": request.query,
            "errors": errors,
            "users": users,
            "view_all": view_all,
            "directions": DIRECTIONS,
            "results": RESULTS,
            "periods": PERIODS,
            "duration": duration,
        },
        status=status,
    )


async def recording(request: web.Request) -> web.StreamResponse:
    """The call's recording, seekable (Range -> 206), for those who may see the call."""
    user = current_user(request)
    call = await call_list.get_call(user, path_id(request))
    path = call_list.recording_file(call, recordings_dir(request))
    logger.info("recording of call %s played by %s", call.id, user.username)
    return web.FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/calls", calls_page)
    app.router.add_get(r"/calls/{id:\d+}/recording", recording)
