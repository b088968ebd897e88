"""Rights of permission groups (G7) and the checks every front-end goes through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.core.errors import Message, NotFound, PermissionDenied, msg
from models.core.sql import is_id
from models.schema.users import User

M = TypeVar("M", bound=Model)

# Every right a group can hold, with its description: a domain message, so that it reads in
# the reader's language wherever it is shown (`.in_language(lang)`) or quoted in a refusal.
RIGHTS: dict[str, Message] = {
    "clients.view_all": msg("See every client, not only own ones"),
    "clients.edit_all": msg("Edit and delete any client"),
    "leads.view_all": msg("See every lead, not only own and unhandled ones"),
    "leads.edit_all": msg("Edit any lead"),
    "deals.view_all": msg("See every deal"),
    "deals.edit_all": msg("Edit any deal"),
    "tasks.view_all": msg("See every user's tasks and calendar"),
    "tasks.assign_others": msg("Create tasks for other users"),
    "calls.view_all": msg("See every call and listen to its recording"),
    "import_export": msg("Import and export clients and leads"),
    "analytics.view": msg("Open analytics"),
    "users.manage": msg("Add, invite and edit users"),
    "settings.manage": msg("Change company, telephony and group settings"),
    "sms.bulk": msg("Send bulk SMS and email"),
}

ADMIN = "Admin"
AGENT = "Agent"

STANDARD_GROUPS: dict[str, list[str]] = {
    ADMIN: sorted(RIGHTS),
    AGENT: ["tasks.assign_others", "analytics.view"],
}


def rights_of(user: User) -> frozenset[str]:
    """The user's rights; the group must be fetched (`await user.fetch_related('group')`)."""
    group = user.group
    if group.name == ADMIN and group.is_standard:
        return frozenset(RIGHTS)
    return frozenset(group.rights)


def has_right(user: User, right: str) -> bool:
    return right in rights_of(user)


def is_admin(user: User) -> bool:
    group = user.group
    return bool(group.name == ADMIN and group.is_standard)


def require(user: User, right: str) -> None:
    if not has_right(user, right):
        raise PermissionDenied(
            msg("your group does not allow this (%(right)s)", right=RIGHTS.get(right, right))
        )


@dataclass(frozen=True)
class Ownership:
    """Who may see and change one kind of record: the user it belongs to (`owner`), groups
    with the kind's view-all / edit-all right, and, where `unowned_is_everyones`, anyone when
    it belongs to nobody (unhandled leads, unassigned clients).

    A record the user may not see is answered exactly like a missing one (`missing`, NotFound):
    neither its name nor its existence is told, so ids cannot be probed.
    """

    view_all: str
    edit_all: str
    unowned_is_everyones: bool
    missing: Message  # "client %(id)s not found"
    owner: str = "responsible_id"

    def not_found(self, record_id: int | str) -> NotFound:
        """The answer for a record that is missing, or that the user may not see."""
        return NotFound(msg(self.missing.msgid, id=record_id))


CLIENTS = Ownership(
    "clients.view_all",
    "clients.edit_all",
    unowned_is_everyones=True,
    missing=msg("client %(id)s not found"),
)
LEADS = Ownership(
    "leads.view_all",
    "leads.edit_all",
    unowned_is_everyones=True,
    missing=msg("lead %(id)s not found"),
)
DEALS = Ownership(
    "deals.view_all",
    "deals.edit_all",
    unowned_is_everyones=False,
    missing=msg("deal %(id)s not found"),
)
CALLS = Ownership(
    "calls.view_all",
    "calls.view_all",
    unowned_is_everyones=False,
    missing=msg("call %(id)s not found"),
    owner="agent_id",
)


def may_see(user: User, kind: Ownership, owner_id: int | None) -> bool:
    """The one rule for one record: its owner, the view-all right, or nobody's and open."""
    if owner_id is None:
        return kind.unowned_is_everyones or has_right(user, kind.view_all)
    return owner_id == user.id or has_right(user, kind.view_all)


def may_edit(user: User, kind: Ownership, owner_id: int | None) -> bool:
    if owner_id is None:
        return kind.unowned_is_everyones or has_right(user, kind.edit_all)
    return owner_id == user.id or has_right(user, kind.edit_all)


def check_visible(user: User, kind: Ownership, owner_id: int | None, record_id: int) -> None:
    """NotFound, the same as for a missing record, unless `user` may see this one."""
    if not may_see(user, kind, owner_id):
        raise kind.not_found(record_id)


async def visible_record(user: User, kind: Ownership, model: type[M], record_id: int) -> M:
    """The record of `model` with this id if `user` may see it (`may_see`); NotFound, with
    the same message, when there is none and when it is someone else's."""
    record = await model.get_or_none(id=record_id) if is_id(record_id) else None
    if record is None:
        raise kind.not_found(record_id)
    check_visible(user, kind, getattr(record, kind.owner), record_id)
    return record


def visible(user: User | None, kind: Ownership, qs: QuerySet[M]) -> QuerySet[M]:
    """The same rule as `may_see`, as a query (`user` None is the system, which sees all)."""
    if user is None or has_right(user, kind.view_all):
        return qs
    owned: dict[str, Any] = {kind.owner: user.id}
    unowned: dict[str, Any] = {f"{kind.owner}__isnull": True}
    mine = Q(**owned)
    if kind.unowned_is_everyones:
        return qs.filter(mine | Q(**unowned))
    return qs.filter(mine)
