"""Choosing a client or lead from what an agent typed (/note, /task, /call).

It is the domain's one contact search (models/sales/contact_search.py). When several contacts
match, the agent gets a button for each: nothing is ever picked for them silently. The choices
are kept in the dialog's data, so a button only works while its dialog is open.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.context import Replier, trimmed
from models.sales.contact_search import Contact, search_contacts
from models.schema.users import User

MAX_CHOICES = 8
# "/note Carlos García García llamar mañana": the name is at most this many words long.
MAX_NAME_WORDS = 6
# "/note Carlos García: llamar mañana" or a new line says where the name ends.
_SEPARATOR = re.compile(r"^(.*?)(?::\s|\n)(.*)$", re.DOTALL)


class Pick(CallbackData, prefix="pick"):
    """A button among several matches: which offer (`k`) and the index of the choice."""

    k: str
    i: int


def card_of(contact: Contact) -> dict[str, Any]:
    """What a note or task needs to know about its contact (the call cards' shape)."""
    key = "client_id" if contact.kind == "client" else "lead_id"
    return {key: contact.id, "name": contact.name, "company": contact.company_name}


def label_of(contact: Contact) -> str:
    kind = _("client") if contact.kind == "client" else _("lead")
    company = f" · {contact.company_name}" if contact.company_name else ""
    return f"{contact.name}{company} ({kind})"


async def find(user: User, query: str) -> list[Contact]:
    return await search_contacts(user, query, limit=MAX_CHOICES)


async def name_and_text(user: User, typed: str) -> tuple[str, list[Contact], str]:
    """Split "NAME text" into the contacts NAME finds and the text after it.

    A ": " or a new line after the name says where it ends; otherwise the longest run of
    first words that finds someone is the name ("Carlos García García llamar mañana").
    Returns (what was looked for, the contacts found, the rest).
    """
    typed = typed.strip()
    separated = _SEPARATOR.match(typed)
    if separated is not None:
        found = await find(user, separated.group(1))
        if found:
            return separated.group(1).strip(), found, separated.group(2).strip()
    words = typed.split(" ")
    for count in range(min(len(words), MAX_NAME_WORDS), 0, -1):
        query = " ".join(words[:count])
        found = await find(user, query)
        if found:
            return query, found, " ".join(words[count:]).strip()
    return " ".join(words[:MAX_NAME_WORDS]), [], ""


async def offer(
    reply: Replier, state: FSMContext, prompt: str, choices: list[tuple[str, dict[str, Any]]]
) -> None:
    """Ask the agent to pick one of `choices` ((button label, what it stands for)) with a
    button each; the dialog's state must be set by the caller."""
    offer_key = secrets.token_hex(4)  # the buttons of an earlier offer stop working
    await state.update_data(
        choices=[payload for _label, payload in choices[:MAX_CHOICES]], offer=offer_key
    )
    rows = [
        [InlineKeyboardButton(text=trimmed(label, 60), callback_data=Pick(k=offer_key, i=i).pack())]
        for i, (label, _payload) in enumerate(choices[:MAX_CHOICES])
    ]
    await reply.send(prompt, InlineKeyboardMarkup(inline_keyboard=rows))


async def picked(state: FSMContext, pick: Pick) -> dict[str, Any] | None:
    """What the pressed button stands for; None for a button of an earlier dialog."""
    data = await state.get_data()
    choices = data.get("choices") or []
    if data.get("offer") != pick.k or not 0 <= pick.i < len(choices):
        return None
    choice: dict[str, Any] = choices[pick.i]
    return choice


def several_prompt(query: str) -> str:
    return _("Several match “%(query)s”. Which one?") % {"query": trimmed(query, 60)}


def nothing_found(query: str) -> str:
    return _("Nothing found for “%(query)s”.") % {"query": trimmed(query, 60)}
