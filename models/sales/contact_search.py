"""Finding a client or lead by what an agent types: the one search behind the widget's contacts
tab and the bot's /find, /note, /task and /call.

Clients first, then open leads, each only if the user may see it (the client and lead lists'
own rules), with their phones in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from models.contacts.clients import list_clients
from models.sales.leads import list_leads
from models.schema.clients import Phone
from models.schema.users import User

# Shorter queries match too much to be useful on a phone's small screen.
MIN_QUERY = 2


@dataclass(frozen=True)
class Contact:
    kind: str  # "client" | "lead"
    id: int
    name: str
    company_name: str
    phones: tuple[str, ...]  # E.164 where readable, else as typed


async def search_contacts(user: User, query: str, *, limit: int = 10) -> list[Contact]:
    """Clients, then open leads, that `user` may see matching `query` (name, company, email,
    phone), at most `limit` of them."""
    if len((query or "").strip()) < MIN_QUERY:
        return []
    clients, _ = await list_clients(user, query=query, limit=limit)
    leads, _ = await list_leads(user, view="all", query=query, limit=limit)
    found = [Contact("client", c.id, c.name, c.company_name, _phones(c.phones)) for c in clients]
    found += [
        Contact("lead", lead.id, lead.name, lead.company_name, _phones(lead.phones))
        for lead in leads
    ]
    return found[:limit]


def _phones(rows: Iterable[Phone]) -> tuple[str, ...]:
    return tuple(p.e164 or p.typed for p in sorted(rows, key=lambda p: p.position))
