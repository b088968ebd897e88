"""Finding leads the way clients are found (C1, E1): any part of three letters or more of the
name, the company or an email, a phone in any format or its last digits.

The same trigram search as clients' (models/contacts/client_search.py) over the leads' own
index (migration 0009), so that both databases find the same leads, and the top search of the
panel finds clients and leads with one rule.
"""

from __future__ import annotations

from tortoise.expressions import Q

from models.contacts.client_search import (
    LEADS,
    email_filter,
    looks_like_phone,
    phone_filter,
    text_filter,
)
from models.contacts.search_text import search_key
from models.core import filters
from models.people.users import get_company
from models.schema.leads import Lead


async def lead_filter(query: str) -> Q:
    """The leads a search for `query` finds: by email when it holds an "@", by phone when
    it is written like a number, else by any part of name, company or email."""
    text = query.strip()
    if "@" in text:
        return email_filter(text, LEADS)
    if looks_like_phone(text):
        return await phone_filter(text, (await get_company()).default_region, LEADS)
    if not filters.fits(Lead, "name_key", search_key(text)):
        return email_filter(text, LEADS)  # longer than any name once its accents are spelled out
    return text_filter(text, LEADS)
