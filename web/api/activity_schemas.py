"""The API's shapes for tasks, notes, calls and users (web/api/schemas.py has clients' and
leads'). The handlers validate with these and the OpenAPI document is made from them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from web.api.schemas import Cursor, Id, Limit, Name, Search, Strict


class TaskIn(Strict):
    """A new task for the token's user (or, with the right, for colleagues)."""

    title: Name
    due_at: datetime = Field(description="When it is due (UTC when no offset is given).")
    kind: Literal["task", "call", "video"] = "task"
    description: Annotated[str, Field(max_length=5000)] = ""
    duration_minutes: Annotated[int, Field(ge=1, le=1440)] = 30
    assignee_ids: list[Id] = Field(default_factory=list, max_length=20)
    client_id: Id | None = None
    lead_id: Id | None = None
    deal_id: Id | None = None
    remind_minutes_before: Annotated[int | None, Field(ge=0, le=10080)] = None


class TaskOut(BaseModel):
    id: int
    title: str
    kind: str
    description: str
    due_at: datetime
    duration_minutes: int
    is_done: bool
    done_at: datetime | None
    author_id: int | None
    assignee_ids: list[int]
    client_id: int | None
    lead_id: int | None
    deal_id: int | None


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


class TaskQuery(Strict):
    limit: Limit = 50
    cursor: Cursor = None
    sort: Literal["id", "-id"] = "-id"
    q: Search = None
    scope: Literal["mine", "all"] = Field("mine", description="all: needs tasks.view_all.")
    status: Literal["open", "done", "overdue", "upcoming", "any"] = "open"
    client_id: Id | None = None
    lead_id: Id | None = None
    deal_id: Id | None = None


class NoteIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=10000)]


class NoteOut(BaseModel):
    id: int
    text: str
    author_id: int | None
    client_id: int | None
    lead_id: int | None
    created_at: datetime


class NoteList(BaseModel):
    items: list[NoteOut] = Field(description="The newest notes first.")


class NoteQuery(Strict):
    limit: Limit = 50


class CallOut(BaseModel):
    id: int
    direction: str
    result: str
    from_number: str
    to_number: str
    did: str
    agent_id: int | None
    client_id: int | None
    lead_id: int | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: int
    talk_seconds: int
    has_recording: bool


class CallPage(BaseModel):
    items: list[CallOut]
    next_cursor: str | None


class CallQuery(Strict):
    limit: Limit = 50
    cursor: Cursor = None
    sort: Literal["id", "-id"] = "-id"
    direction: Literal["in", "out", "internal"] | None = None
    result: Literal["answered", "missed", "busy", "failed", "no_answer"] | None = None
    user_id: Id | None = Field(None, description="The agent who took or made it.")
    client_id: Id | None = None


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    extension: str | None
    position: str
    group: str


class UserList(BaseModel):
    items: list[UserOut] = Field(description="The active team, by name.")


Amount = Annotated[Decimal, Field(ge=0, lt=10**12, decimal_places=2)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", description="Default: the company's.")]
DealStatus = Literal[
    "new", "in_progress", "awaiting_decision", "awaiting_payment", "won", "cancelled"
]


class DealIn(Strict):
    """A new deal of a client the user may see, in status "new"."""

    client_id: Id
    title: Name
    amount: Amount = Decimal(0)
    currency: Currency | None = None
    responsible_id: Id | None = Field(None, description="Default: the token's user.")


class DealPatch(Strict):
    """Changes to a deal; a new status moves it through the funnel (in its history)."""

    title: Name | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    responsible_id: Id | None = None
    status: DealStatus | None = None


class DealOut(BaseModel):
    id: int
    title: str
    client_id: int
    responsible_id: int | None
    status: str
    amount: str = Field(description="Decimal, as text: 1234.50")
    currency: str
    created_at: datetime
    closed_at: datetime | None


class DealPage(BaseModel):
    items: list[DealOut]
    next_cursor: str | None


class DealQuery(Strict):
    limit: Limit = 50
    cursor: Cursor = None
    sort: Literal["created", "-created", "title", "-title", "amount", "-amount"] = "-created"
    q: Search = None
    status: DealStatus | None = None
    client_id: Id | None = None
    responsible_id: Id | None = None
