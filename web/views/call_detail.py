"""One call's page (L1): who, when, how it went, its recording, transcript and notes.

Linked from the auto-dialer's results and wherever a call is named. A call the user may not
see answers exactly like a call that does not exist (404), so ids cannot be probed.
"""

from __future__ import annotations

from aiohttp import web

from models.contacts.notes import notes_of
from models.core.errors import NotFound, PermissionDenied
from models.telephony import call_history
from web.templating import render
from web.views.calls import duration
from web.views.common import current_user, path_id


async def call_page(request: web.Request) -> web.Response:
    user = current_user(request)
    try:
        call = await call_history.get_call(user, path_id(request))
    except PermissionDenied:
        raise NotFound("no such call") from None
    context = {
        "call": call,
        "notes": await notes_of(call_id=call.id),
        "duration": duration,
    }
    return render(request, "calls/detail.html", context)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(r"/calls/{id:\d+}", call_page)
