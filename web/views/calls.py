"""The calls page (L1): filters, wait and talk time, the recording played in the page.

Recordings are served with HTTP range requests (aiohttp's FileResponse answers Range with 206, so
the browser can seek), only to users who may see the call, and only from the recordings folder.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from models.core.errors import ValidationFailed
from models.people.permissions import has_right
from models.people.schedule import zone_of
from models.people.team import list_users
from models.schema.users import User
from models.telephony import call_history as call_list
from models.telephony.call_history import DIRECTIONS, RESULTS, CallFilter
from web.keys import SETTINGS
from web.templating import render
from web.views.common import current_user, int_param, now, path_id

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
PERIODS = ("today", "7d", "30d")


def recordings_dir(request: web.Request) -> Path:
    settings = request.app[SETTINGS]
    configured = settings.ami.recordings_dir
    return Path(configured) if configured else Path(settings.data_dir) / "recordings"


def _day(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({field: "expected a date like 2026-11-25"}) from None


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def filter_from(query: Any, user: User, current: datetime) -> CallFilter:
    """The filter form's values, the period read in the user's time zone."""
    zone = zone_of(user)
    today = current.astimezone(zone).date()
    since: datetime | None = None
    until: datetime | None = None
    period = query.get("period", "")
    if period == "today":
        since = _start_of(today, zone)
    elif period == "7d":
        since = _start_of(today - timedelta(days=6), zone)
    elif period == "30d":
        since = _start_of(today - timedelta(days=29), zone)
    first = _day(query.get("from"), "from")
    last = _day(query.get("to"), "to")
    if first is not None:
        since = _start_of(first, zone)
    if last is not None:
        until = _start_of(last + timedelta(days=1), zone)
    return CallFilter(
        user_id=int_param(query.get("user")),
        direction=query.get("direction", ""),
        result=query.get("result", ""),
        since=since,
        until=until,
        client_id=int_param(query.get("client")),
    )


def duration(seconds: int) -> str:
    minutes, secs = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _page_query(query: Any, page: int) -> str:
    values = [(k, v) for k, v in query.items() if k != "page" and v]
    return urlencode([*values, ("page", str(page))])


async def calls_page(request: web.Request) -> web.Response:
    user = current_user(request)
    page = max(1, int_param(request.query.get("page"), default=1) or 1)
    errors: dict[str, str] = {}
    try:
        filters = filter_from(request.query, user, now(request))
        rows, total = await call_list.list_calls(
            user, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
    except ValidationFailed as err:
        errors = err.fields
        rows, total = [], 0
    view_all = has_right(user, "calls.view_all")
    users = await list_users(user) if view_all else []
    status = 422 if errors else 200
    return render(
        request,
        "calls/list.html",
        {
            "calls": rows,
            "total": total,
            "count_cap": call_list.COUNT_CAP,
            "page": page,
            "pages": max(1, -(-min(total, call_list.COUNT_CAP) // PAGE_SIZE)),
            "query": request.query,
            "errors": errors,
            "users": users,
            "view_all": view_all,
            "directions": DIRECTIONS,
            "results": RESULTS,
            "periods": PERIODS,
            "duration": duration,
            "query_string": lambda number: _page_query(request.query, number),
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
