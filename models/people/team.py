"""The team (M1, M2): listing users, editing them, and invitations that expire (by link or
by email)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models.core.errors import Conflict, NotFound, ValidationFailed, msg
from models.people import sessions
from models.people import users as user_ops
from models.people.permissions import AGENT, require
from models.schema.users import Group, Invite, User

INVITE_HOURS = 72


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def list_users(actor: User, *, include_inactive: bool = False) -> list[User]:
    """Everyone sees the team (to call a colleague); inactive users only with users.manage."""
    query = User.all().prefetch_related("group").order_by("full_name", "username")
    if not include_inactive:
        query = query.filter(is_active=True)
    else:
        require(actor, "users.manage")
    return await query


@dataclass(frozen=True)
class Member:
    """A colleague as pickers and lists show one: who, by name, on which extension."""

    id: int
    full_name: str
    username: str
    extension: str | None

    def __str__(self) -> str:  # as User.__str__
        return self.full_name or self.username


async def roster() -> list[Member]:
    """The active team for pickers, filters and names on a page (everyone sees it, as
    list_users): one query of four columns. Most pages need no more, and building full User
    objects with their groups for a few hundred colleagues cost as much as rendering the page."""
    rows = (
        await User.filter(is_active=True)
        .order_by("full_name", "username")
        .values_list("id", "full_name", "username", "extension")
    )
    return [Member(*row) for row in rows]


async def list_groups() -> list[Group]:
    await user_ops.ensure_standard_groups()
    return await Group.all().order_by("-is_standard", "name")


async def add_user(
    actor: User,
    *,
    username: str,
    password: str,
    email: str = "",
    extension: str | None = None,
    full_name: str = "",
    group_name: str = AGENT,
    language: str = "es",
) -> User:
    require(actor, "users.manage")
    return await user_ops.create_user(
        username.strip(),
        password,
        group_name=group_name,
        extension=(extension or "").strip() or None,
        email=email.strip(),
        full_name=full_name.strip(),
        language=language,
    )


async def set_user_group(actor: User, user_id: int, group_id: int) -> User:
    """An admin assigns a user a group (G7)."""
    require(actor, "users.manage")
    user = await user_ops.get_user(user_id)
    group = await Group.get_or_none(id=group_id)
    if group is None:
        raise ValidationFailed({"group": msg("no such group")})
    if user.id == actor.id and group.name != "Admin":
        raise ValidationFailed({"group": msg("you cannot take away your own admin rights")})
    user.group = group
    await user.save(update_fields=["group_id"])
    await user.fetch_related("group")
    return user


async def set_user_active(actor: User, user_id: int, active: bool) -> User:
    require(actor, "users.manage")
    if user_id == actor.id and not active:
        raise ValidationFailed({"is_active": msg("you cannot deactivate yourself")})
    user = await user_ops.get_user(user_id)
    user.is_active = active
    await user.save(update_fields=["is_active"])
    if not active:
        await sessions.end_sessions_of(user.id)  # logged out everywhere, at once
    return user


async def create_invite(
    actor: User,
    now: datetime,
    *,
    email: str = "",
    extension: str | None = None,
    group_name: str = AGENT,
    hours: int = INVITE_HOURS,
) -> tuple[Invite, str]:
    """A single-use invitation; returns it and the secret token (only its hash is stored)."""
    require(actor, "users.manage")
    errors: dict[str, str] = {}
    email = email.strip()
    if email and "@" not in email:
        errors["email"] = msg("not an email address")
    extension = (extension or "").strip() or None
    if extension and not extension.isdigit():
        errors["extension"] = msg("digits only")
    group = await Group.get_or_none(name=group_name)
    if group is None:
        errors["group"] = msg("no such group")
    if errors:
        raise ValidationFailed(errors)
    if extension and await User.filter(extension=extension).exists():
        raise Conflict(
            msg("extension %(extension)s is taken", extension=extension), field="extension"
        )
    token = secrets.token_urlsafe(24)
    invite = await Invite.create(
        token_hash=_hash_token(token),
        email=email,
        extension=extension,
        group=group,
        created_by=actor,
        expires_at=now + timedelta(hours=hours),
    )
    return invite, token


async def open_invite(token: str, now: datetime) -> Invite:
    """The invitation behind a link, if it is unused and not expired."""
    invite = await Invite.get_or_none(token_hash=_hash_token(token)).prefetch_related("group")
    if invite is None or invite.used_at is not None:
        raise NotFound(msg("this invitation does not exist or was already used"))
    if invite.expires_at <= now:
        raise NotFound(msg("this invitation has expired"))
    return invite


async def accept_invite(
    token: str,
    now: datetime,
    *,
    username: str,
    password: str,
    full_name: str = "",
    language: str = "es",
) -> User:
    """The invited person chooses a username and a password; the link then stops working."""
    async with in_transaction():
        invite = await open_invite(token, now)
        user = await user_ops.create_user(
            username.strip(),
            password,
            group_name=invite.group.name,
            extension=invite.extension,
            email=invite.email,
            full_name=full_name.strip(),
            language=language,
        )
        invite.used_at = now
        await invite.save(update_fields=["used_at"])
    return user


async def pending_invites(actor: User, now: datetime) -> list[Invite]:
    require(actor, "users.manage")
    return await Invite.filter(used_at=None, expires_at__gt=now).order_by("-created_at")
