"""Reading the panel's forms into the domain's inputs."""

from __future__ import annotations

from typing import Any

from multidict import MultiDictProxy

from models.contacts.clients import ClientInput
from models.schema.clients import CustomField
from web.views.common import int_param


def many(form: MultiDictProxy[Any], name: str) -> list[str]:
    """All non-empty values of a repeated field (several phones, several emails)."""
    return [v.strip() for v in form.getall(name, []) if isinstance(v, str) and v.strip()]


def tags_of(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def custom_of(form: MultiDictProxy[Any], fields: list[CustomField]) -> dict[str, object]:
    return {f.key: str(form.get(f"cf_{f.key}", "")).strip() for f in fields}


def client_input(form: MultiDictProxy[Any], fields: list[CustomField]) -> ClientInput:
    return ClientInput(
        name=str(form.get("name", "")),
        phones=many(form, "phones"),
        emails=many(form, "emails"),
        company_name=str(form.get("company_name", "")),
        status=str(form.get("status", "active")),
        type=str(form.get("type", "person")),
        tags=tags_of(str(form.get("tags", ""))),
        responsible_id=int_param(str(form.get("responsible_id", ""))),
        custom=custom_of(form, fields),
    )


def typed_back(form: MultiDictProxy[Any]) -> dict[str, Any]:
    """What the user typed, including repeated fields, to show the form again."""
    values: dict[str, Any] = {}
    for key in form:
        if key in ("csrf_token", "password"):
            continue
        value = form.get(key)
        if isinstance(value, str):
            values[key] = value
    values["phones"] = many(form, "phones") or [""]
    values["emails"] = many(form, "emails") or [""]
    return values
