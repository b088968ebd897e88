"""Every message gets an answer: /help (/ayuda), /cancel, /skip where nothing can be skipped,
and, last of all routers, a hint for an unknown command, free text, a photo or an expired button.

`COMMANDS` is the one list of what the bot does: /help shows it and the command menu
(setMyCommands) is made from it.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.context import Replier, command_name, expired_button, trimmed

COMMANDS = {
    "tasks": __("Today's and overdue tasks"),
    "task": __("Create a task"),
    "find": __("Search clients and leads"),
    "note": __("Add a note"),
    "call": __("Call a number or client"),
    "dialer": __("Pause, resume or check your auto-dialer list"),
    "cancel": __("Stop what you are doing"),
    "help": __("What this bot does"),
    "unlink": __("Unlink this chat"),
}


def help_text() -> str:
    lines = [_("This is what I can do:")]
    lines += [f"/{name} — {description}" for name, description in COMMANDS.items()]
    lines += [
        "",
        _("To add a note to a call, reply to its message or to its missed-call alert."),
        _("Calls, reminders and your daily digest arrive here by themselves."),
    ]
    return "\n".join(lines)


async def show_help(message: Message, reply: Replier) -> None:
    await reply.send(help_text())


async def cancel(message: Message, reply: Replier, ended_dialog: str | None = None) -> None:
    """/cancel: the open dialog was ended already (every command ends it)."""
    await reply.send(_("Cancelled.") if ended_dialog else _("There is nothing to cancel."))


async def skip_not_here(message: Message, reply: Replier, raw_state: str | None = None) -> None:
    """/skip at a step that cannot be skipped, or with no dialog open."""
    if raw_state:
        await reply.send(_("This step cannot be skipped. Answer it, or /cancel to stop."))
    else:
        await reply.send(_("There is nothing to skip."))


async def unknown_command(message: Message, reply: Replier) -> None:
    name = command_name(message.text or "") or ""
    await reply.send(
        _("I don't know the command /%(command)s. /help lists what I can do.")
        % {"command": trimmed(name, 40)}
    )


async def not_understood(message: Message, reply: Replier, raw_state: str | None = None) -> None:
    """Free text with no dialog open and not a reply to a call, or while buttons wait."""
    if raw_state:
        await reply.send(_("Please choose with the buttons above, or /cancel to stop."))
        return
    await reply.send(
        _(
            "I only understand commands. To add a note to a call, reply to its message. "
            "/help lists what I can do."
        )
    )


async def not_text(message: Message, reply: Replier, raw_state: str | None = None) -> None:
    """A photo, a voice message, a sticker ..."""
    if raw_state:
        await reply.send(_("Please answer with text, or /cancel to stop."))
    else:
        await reply.send(_("I can only read text. /help lists what I can do."))


def help_router() -> Router:
    """A new router with the help and the catch-all handlers: include it last."""
    router = Router(name="help")
    any_state = StateFilter("*")
    router.message.register(show_help, Command("help", "ayuda"), any_state)
    router.message.register(cancel, Command("cancel", "cancelar"), any_state)
    router.message.register(skip_not_here, Command("skip"), any_state)
    router.message.register(unknown_command, F.text.startswith("/"), any_state)
    router.message.register(not_understood, F.text, any_state)
    router.message.register(not_text, any_state)
    router.callback_query.register(expired_button, any_state)
    return router
