"""Click-to-call (L5) from any page: a command on the hub, errors said plainly."""

from __future__ import annotations

import logging
import uuid

from aiohttp import web

from models.core.errors import TelephonyError
from models.core.events import ClickToCall
from models.schema.users import User
from web.keys import HUB, SERVICES
from web.templating import gettext

logger = logging.getLogger(__name__)


def pbx_is_up(request: web.Request) -> bool:
    probe = request.app[SERVICES].pbx_connected
    if probe is not None:
        return probe()
    return request.app[HUB].can_handle(ClickToCall)


async def click_to_call(request: web.Request, user: User, number: str) -> tuple[bool, str]:
    """Ask the PBX to ring the user's extension then dial `number`; (ok, message to show)."""
    if not user.extension:
        return False, gettext(request, "Set your PBX extension in your profile to place calls.")
    if not number:
        return False, gettext(request, "There is no number to call.")
    if not pbx_is_up(request):
        return False, gettext(
            request, "The PBX link is not connected, so the call cannot be placed right now."
        )
    request_id = uuid.uuid4().hex
    try:
        await request.app[HUB].send(
            ClickToCall(
                user_id=user.id, extension=user.extension, number=number, request_id=request_id
            )
        )
    except TelephonyError as err:
        logger.warning("click-to-call %s for %s failed: %s", request_id, user.username, err)
        return False, gettext(request, "The call could not be placed: %(reason)s", reason=str(err))
    logger.info(
        "click-to-call %s: %s (ext %s) -> %s", request_id, user.username, user.extension, number
    )
    return True, gettext(
        request,
        "Calling %(number)s: your phone (extension %(ext)s) rings first.",
        number=number,
        ext=user.extension,
    )
