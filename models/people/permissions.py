"""Rights of permission groups (G7) and the checks every front-end goes through."""

from __future__ import annotations

from models.core.errors import PermissionDenied
from models.schema.users import User

# Every right a group can hold, with its description.
RIGHTS: dict[str, str] = {
    "clients.view_all": "See every client, not only own ones",
    "clients.edit_all": "Edit and delete any client",
    "leads.view_all": "See every lead, not only own and unhandled ones",
    "leads.edit_all": "Edit any lead",
    "deals.view_all": "See every deal",
    "deals.edit_all": "Edit any deal",
    "tasks.view_all": "See every user's tasks and calendar",
    "tasks.assign_others": "Create tasks for other users",
    "calls.view_all": "See every call and listen to its recording",
    "import_export": "Import and export clients and leads",
    "analytics.view": "Open analytics",
    "users.manage": "Add, invite and edit users",
    "settings.manage": "Change company, telephony and group settings",
    "sms.bulk": "Send bulk SMS and email",
}

ADMIN = "Admin"
AGENT = "Agent"

STANDARD_GROUPS: dict[str, list[str]] = {
    ADMIN: sorted(RIGHTS),
    AGENT: ["tasks.assign_others", "analytics.view"],
}


def rights_of(user: User) -> frozenset[str]:
    """The user's rights; the group must be fetched (`await user.fetch_related('group')`)."""
    group = user.group  # type: ignore[attr-defined]
    if group.name == ADMIN and group.is_standard:
        return frozenset(RIGHTS)
    return frozenset(group.rights)


def has_right(user: User, right: str) -> bool:
    return right in rights_of(user)


def is_admin(user: User) -> bool:
    group = user.group  # type: ignore[attr-defined]
    return bool(group.name == ADMIN and group.is_standard)


def require(user: User, right: str) -> None:
    if not has_right(user, right):
        raise PermissionDenied(f"your group does not allow this ({RIGHTS.get(right, right)})")


def can_see_owned(user: User, responsible_id: int | None, view_all_right: str) -> bool:
    """Own objects are always visible; others' need the view-all right.

    Objects with no responsible user are visible to all (unhandled leads, unassigned clients).
    """
    return responsible_id is None or responsible_id == user.id or has_right(user, view_all_right)


def can_edit_owned(user: User, responsible_id: int | None, edit_all_right: str) -> bool:
    return responsible_id is None or responsible_id == user.id or has_right(user, edit_all_right)
