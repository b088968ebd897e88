"""/find QUERY (B3): clients and leads by name, company or phone."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.context import Replier, trimmed
from models.sales.contact_search import search_contacts
from models.schema.users import User


async def find(
    message: Message, command: CommandObject, user: User, lang: str, reply: Replier
) -> None:
    query = (command.args or "").strip()
    if not query:
        await reply.send(_("Usage: /find name, company or phone"))
        return
    found = await search_contacts(user, query, limit=10)
    if not found:
        await reply.send(_("Nothing found for “%(query)s”.") % {"query": trimmed(query, 60)})
        return
    lines = [_("🔎 Results for “%(query)s”:") % {"query": trimmed(query, 60)}]
    for contact in found:
        company = f" · {contact.company_name}" if contact.company_name else ""
        phone = f" — {', '.join(contact.phones[:2])}" if contact.phones else ""
        kind = _("client") if contact.kind == "client" else _("lead")
        lines.append(f"• {contact.name}{company} ({kind}){phone}")
    await reply.send("\n".join(lines))


def search_router() -> Router:
    """A new router with the search handlers (one per dispatcher)."""
    router = Router(name="search")
    router.message.register(find, Command("find"))
    return router
