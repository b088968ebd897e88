"""The API's request and answer shapes (pydantic). The handlers validate with these and the
OpenAPI document (web/api/openapi.py) is generated from the same classes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Name = Annotated[str, Field(min_length=1, max_length=200)]
Text200 = Annotated[str, Field(max_length=200)]
Utm = Annotated[str, Field(max_length=100)]
CustomValue = str | int | float | bool | None
Limit = Annotated[int, Field(ge=1, le=200, description="Rows per page (1-200).")]
Cursor = Annotated[
    str | None,
    Field(max_length=500, description="The `next_cursor` of the previous page."),
]
Search = Annotated[
    str | None,
    Field(max_length=200, description="Search: a phone in any format, an email, a name..."),
]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClientIn(Strict):
    """A new client."""

    name: Name
    phones: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=20)
    emails: list[Annotated[str, Field(max_length=255)]] = Field(default_factory=list, max_length=20)
    company_name: Text200 = ""
    status: Literal["active", "potential", "inactive"] = "active"
    type: Literal["person", "company"] = "person"
    tags: list[Annotated[str, Field(max_length=60)]] = Field(default_factory=list, max_length=50)
    responsible_id: Id | None = Field(None, description="Default: the token's user.")
    source_tag_id: Id | None = None
    custom: dict[str, CustomValue] = Field(default_factory=dict, description="key -> value")


class ClientPatch(Strict):
    """Changes to a client: only the given fields change (lists are replaced whole)."""

    name: Name | None = None
    phones: list[Annotated[str, Field(max_length=64)]] | None = Field(None, max_length=20)
    emails: list[Annotated[str, Field(max_length=255)]] | None = Field(None, max_length=20)
    company_name: Text200 | None = None
    status: Literal["active", "potential", "inactive"] | None = None
    type: Literal["person", "company"] | None = None
    tags: list[Annotated[str, Field(max_length=60)]] | None = Field(None, max_length=50)
    responsible_id: Id | None = None
    source_tag_id: Id | None = None
    custom: dict[str, CustomValue] | None = None


class ClientOut(BaseModel):
    id: int
    name: str
    phones: list[str]
    emails: list[str]
    company_name: str
    status: str
    type: str
    tags: list[str]
    responsible_id: int | None
    source_tag_id: int | None
    created_at: datetime
    custom: dict[str, str] | None = Field(None, description="Only in a single client's answer.")


class ClientPage(BaseModel):
    items: list[ClientOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class ClientQuery(Strict):
    limit: Limit = 50
    cursor: Cursor = None
    sort: Literal["id", "-id", "name", "-name"] = Field(
        "-id", description="Newest first (-id), oldest first (id), or by name."
    )
    q: Search = None
    status: Literal["active", "potential", "inactive"] | None = None
    tag: Annotated[str | None, Field(max_length=60)] = None
    responsible_id: Id | None = None
    mine: bool = False


class LeadIn(Strict):
    """A new lead; with no name the first phone or email stands for it."""

    name: Text200 = ""
    phones: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=20)
    emails: list[Annotated[str, Field(max_length=255)]] = Field(default_factory=list, max_length=20)
    company_name: Text200 = ""
    source_tag_id: Id | None = None
    unhandled: bool = Field(False, description="True: nobody's yet (anyone may claim it).")
    utm_source: Utm = ""
    utm_medium: Utm = ""
    utm_campaign: Utm = ""
    utm_term: Utm = ""
    utm_content: Utm = ""
    custom: dict[str, CustomValue] = Field(default_factory=dict, description="key -> value")


class LeadPatch(Strict):
    name: Name | None = None
    phones: list[Annotated[str, Field(max_length=64)]] | None = Field(None, max_length=20)
    emails: list[Annotated[str, Field(max_length=255)]] | None = Field(None, max_length=20)
    company_name: Text200 | None = None
    custom: dict[str, CustomValue] | None = None


class LeadOut(BaseModel):
    id: int
    name: str
    phones: list[str]
    emails: list[str]
    company_name: str
    status: str
    source: str
    source_tag_id: int | None
    responsible_id: int | None
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    created_at: datetime
    custom: dict[str, str] | None = Field(None, description="Only in a single lead's answer.")


class LeadPage(BaseModel):
    items: list[LeadOut]
    next_cursor: str | None


class LeadQuery(Strict):
    limit: Limit = 50
    cursor: Cursor = None
    sort: Literal["id", "-id", "name", "-name"] = "-id"
    q: Search = None
    view: Literal["mine", "unhandled", "all"] = "all"
    status: Literal["open", "converted", "closed"] | None = None


class Problem(BaseModel):
    """An error (RFC 9457, application/problem+json)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    field: str | None = Field(None, description="The input that is wrong.")
    errors: list[dict[str, str]] | None = Field(None, description="Each wrong field and why.")
