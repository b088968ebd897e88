"""The auto-dialer from chat (Q1): /dialer pause, /dialer resume, /dialer status.

It acts on the agent's current list (running, else paused, else the newest idle one); the
daemon's runner notices the change on its next look at the lists.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.context import Replier, error_text
from models.core.clock import Clock
from models.core.errors import CrmError, in_language
from models.schema.users import User
from models.telephony import dialer as dialer_ops

logger = logging.getLogger(__name__)

# What an agent may type after /dialer, in English or Spanish.
ACTIONS = {
    "pause": "pause",
    "pausa": "pause",
    "pausar": "pause",
    "resume": "resume",
    "reanudar": "resume",
    "seguir": "resume",
    "continuar": "resume",
    "status": "status",
    "estado": "status",
}


async def dialer_command(
    message: Message,
    command: CommandObject,
    user: User,
    lang: str,
    reply: Replier,
    clock: Clock,
) -> None:
    action = ACTIONS.get((command.args or "status").strip().lower())
    if action is None:
        await reply.send(_("Usage: /dialer pause | resume | status"))
        return
    current = await dialer_ops.current_list(user)
    if current is None:
        await reply.send(_("You have no auto-dialer list."))
        return
    try:
        if action == "pause":
            await dialer_ops.pause_list(user, current.id)
            await reply.send(_("⏸ List “%(name)s” paused.") % {"name": current.name})
            return
        if action == "resume":
            await dialer_ops.resume_list(user, current.id, clock=clock)
            await reply.send(_("▶️ List “%(name)s” resumed.") % {"name": current.name})
            return
    except CrmError as err:
        await reply.send(error_text(err, lang))
        return
    view = await dialer_ops.view_list(user, current.id)
    body = _(
        "List “%(name)s”: %(status)s. Dialed %(done)s, to dial %(pending)s, skipped %(skipped)s."
    ) % {
        "name": view.name,
        "status": in_language(dialer_ops.list_status_label(view.status), lang),
        "done": view.done,
        "pending": view.pending,
        "skipped": view.skipped,
    }
    if view.dialing is not None:
        body += "\n" + _("Now calling %(number)s.") % {
            "number": view.dialing.e164 or view.dialing.number
        }
    await reply.send(body)


def dialer_router() -> Router:
    """A new router with the dialer handlers (one per dispatcher)."""
    router = Router(name="dialer")
    router.message.register(dialer_command, Command("dialer"))
    return router
