"""The auto-dialer from chat (Q1): /dialer pause, /dialer resume, /dialer status.

It acts on the agent's current list (running, else paused, else the newest idle one); the
daemon's runner notices the change on its next look at the lists.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.context import Replier, error_text
from models.core.clock import Clock
from models.core.errors import CrmError
from models.schema.users import User
from models.telephony import dialer as dialer_ops

logger = logging.getLogger(__name__)

_TEXTS = {
    "usage": {
        "es": "Uso: /dialer pause | resume | status",
        "en": "Usage: /dialer pause | resume | status",
    },
    "none": {
        "es": "No tienes ninguna lista de marcación automática.",
        "en": "You have no auto-dialer list.",
    },
    "paused": {"es": "⏸ Lista «{name}» en pausa.", "en": "⏸ List “{name}” paused."},
    "resumed": {"es": "▶️ Lista «{name}» reanudada.", "en": "▶️ List “{name}” resumed."},
    "status": {
        "es": "Lista «{name}»: {status}. Marcados {done}, pendientes {pending}, "
        "omitidos {skipped}.",
        "en": "List “{name}”: {status}. Dialed {done}, to dial {pending}, skipped {skipped}.",
    },
    "dialing": {"es": "Llamando ahora a {number}.", "en": "Now calling {number}."},
}


def _t(lang: str, key: str, **values: object) -> str:
    texts = _TEXTS[key]
    return texts.get(lang, texts["en"]).format(**values)


async def dialer_command(
    message: Message,
    command: CommandObject,
    user: User,
    lang: str,
    reply: Replier,
    clock: Clock,
) -> None:
    action = (command.args or "status").strip().lower()
    if action not in ("pause", "resume", "status"):
        await reply.send(_t(lang, "usage"))
        return
    current = await dialer_ops.current_list(user)
    if current is None:
        await reply.send(_t(lang, "none"))
        return
    try:
        if action == "pause":
            await dialer_ops.pause_list(user, current.id)
            await reply.send(_t(lang, "paused", name=current.name))
            return
        if action == "resume":
            await dialer_ops.resume_list(user, current.id, clock=clock)
            await reply.send(_t(lang, "resumed", name=current.name))
            return
    except CrmError as err:
        await reply.send(error_text(err, lang))
        return
    view = await dialer_ops.view_list(user, current.id)
    body = _t(
        lang,
        "status",
        name=view.name,
        status=view.status,
        done=view.done,
        pending=view.pending,
        skipped=view.skipped,
    )
    if view.dialing is not None:
        body += "\n" + _t(lang, "dialing", number=view.dialing.e164 or view.dialing.number)
    await reply.send(body)


def dialer_router() -> Router:
    router = Router(name="dialer")
    router.message.register(dialer_command, Command("dialer"))
    return router
