"""/find QUERY (B3): clients and leads by name, company or phone."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.context import Replier
from bot.texts import text
from models.messaging import telegram_links as telegram
from models.schema.users import User


async def find(
    message: Message, command: CommandObject, user: User, lang: str, reply: Replier
) -> None:
    query = (command.args or "").strip()
    if not query:
        await reply.send(text(lang, "find_usage"))
        return
    found = await telegram.search_contacts(user, query, limit=10)
    if not found:
        await reply.send(text(lang, "not_found", query=query))
        return
    lines = [text(lang, "find_header", query=query)]
    for kind, obj in found:
        phones = await telegram.phones_of(obj)
        company = f" · {obj.company_name}" if obj.company_name else ""
        phone = f" — {', '.join(phones[:2])}" if phones else ""
        lines.append(f"• {obj.name}{company} ({text(lang, 'kind_' + kind)}){phone}")
    await reply.send("\n".join(lines))


def search_router() -> Router:
    """A new router with the search handlers (one per dispatcher)."""
    router = Router(name="search")
    router.message.register(find, Command("find"))
    return router
