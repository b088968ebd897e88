"""The selection a list page's bulk form posts: ticked ids, or "all N matching the filters".

The clients and leads lists put their own query string in the form (field `filters`) and,
when the user chose "select all N matching", `all_matching=1`; the ids are then resolved on the
server from those filters (models/sales/selection.py), within what the user may see.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from multidict import MultiDict, MultiDictProxy

from models.core.sql import is_id
from models.sales import selection as selection_ops
from models.schema.users import User
from web.list_filters import client_filters, lead_filters

Form = MultiDictProxy[Any]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def ticked(form: Form, name: str) -> list[int]:
    """The ids of the ticked checkboxes `name` (anything that cannot be an id is ignored)."""
    values = (_text(v) for v in form.getall(name, []))
    ids = (int(v) for v in values if v.isascii() and v.isdigit() and len(v) <= 12)
    return [i for i in ids if is_id(i)]


def filters_of(form: Form) -> MultiDict[str]:
    """The list page's query string the form carried."""
    return MultiDict(parse_qsl(_text(form.get("filters")), keep_blank_values=False))


def is_all_matching(form: Form) -> bool:
    return form.get("all_matching") == "1"


async def selected_clients(user: User, form: Form) -> list[int]:
    if is_all_matching(form):
        return await selection_ops.matching_client_ids(user, client_filters(user, filters_of(form)))
    return ticked(form, "client_ids")


async def selected_leads(user: User, form: Form) -> list[int]:
    if is_all_matching(form):
        return await selection_ops.matching_lead_ids(user, lead_filters(user, filters_of(form)))
    return ticked(form, "lead_ids")
