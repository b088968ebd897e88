"""Users, groups, passwords and the first-run setup (S1, M1, M2, G7)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.transactions import in_transaction

from models.core.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed, msg
from models.people import sessions
from models.people.permissions import ADMIN, AGENT, RIGHTS, STANDARD_GROUPS
from models.schema.company import Company, TelephonySettings
from models.schema.users import Group, User

T = TypeVar("T")

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,60}$")
_LATIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.&'-]{0,99}$")
_EXTENSION = re.compile(r"^[0-9*#]{2,20}$")
# A valid hash of nothing, so that an unknown username costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("centralita-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# Password hashes computed at once by this process. argon2 takes tens of milliseconds of CPU
# on purpose, on 4 threads (its parallelism): fifty people logging in together (the start of a
# shift, or someone guessing passwords) ran six at once on the worker threads and took every
# core from the pop-ups (bench/load.py: the burst of calls beside them waited 215 ms against
# about 60 for the others). One at a time, logins queue for the hasher instead.
_HASHING_AT_ONCE = 1
_hashing: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None


def _hashing_slot() -> asyncio.Semaphore:
    global _hashing
    loop = asyncio.get_running_loop()
    if _hashing is None or _hashing[0] is not loop:
        _hashing = (loop, asyncio.Semaphore(_HASHING_AT_ONCE))
    return _hashing[1]


async def _in_hasher(work: Callable[..., T], *args: Any) -> T:
    """argon2 work in a worker thread (the event loop serving every pop-up and page must not
    wait for it), one at a time (above)."""
    async with _hashing_slot():
        return await asyncio.to_thread(work, *args)


async def _hashed(password: str) -> str:
    return await _in_hasher(_hasher.hash, password)


def _verify(stored_hash: str, password: str) -> None:
    _hasher.verify(stored_hash, password)


def check_password_strength(password: str) -> str | None:
    if len(password) < 8:
        return msg("at least 8 characters")
    return None


async def ensure_standard_groups() -> dict[str, Group]:
    groups = {}
    for name, rights in STANDARD_GROUPS.items():
        group, _ = await Group.get_or_create(
            name=name, defaults={"is_standard": True, "rights": rights}
        )
        groups[name] = group
    return groups


async def has_admin() -> bool:
    return await User.filter(group__name=ADMIN, group__is_standard=True, is_active=True).exists()


async def create_user(
    username: str,
    password: str,
    *,
    group_name: str = AGENT,
    extension: str | None = None,
    email: str = "",
    full_name: str = "",
    language: str = "es",
) -> User:
    """Create a user; refuses bad or taken usernames, weak passwords, taken extensions."""
    errors: dict[str, str] = {}
    if not _USERNAME.match(username or ""):
        errors["username"] = msg("2-60 letters, digits or . _ @ -")
    weak = check_password_strength(password or "")
    if weak:
        errors["password"] = weak
    if extension and not _EXTENSION.match(extension):
        errors["extension"] = msg("digits only (2-20)")
    if errors:
        raise ValidationFailed(errors)
    groups = await ensure_standard_groups()
    group = groups.get(group_name) or await Group.get_or_none(name=group_name)
    if group is None:
        raise ValidationFailed({"group": msg("no group named %(name)s", name=repr(group_name))})
    if await User.filter(username=username).exists():
        raise Conflict(msg("the username %(name)s is taken", name=repr(username)), field="username")
    if extension and await User.filter(extension=extension).exists():
        other = await User.get(extension=extension)
        raise Conflict(
            msg(
                "extension %(extension)s belongs to %(name)s",
                extension=extension,
                name=other.username,
            ),
            field="extension",
            other=other,
        )
    return await User.create(
        username=username,
        password_hash=await _hashed(password),
        group=group,
        extension=extension or None,
        email=email,
        full_name=full_name,
        language=language,
    )


async def set_password(user: User, password: str, *, keep_session: int | None = None) -> None:
    """A new password; every session of the user ends, except `keep_session` (the one that
    changed it, when the user did it from the panel)."""
    weak = check_password_strength(password)
    if weak:
        raise ValidationFailed({"password": weak})
    user.password_hash = await _hashed(password)
    await user.save(update_fields=["password_hash"])
    await sessions.end_sessions_of(user.id, keep=keep_session)


async def authenticate(username: str, password: str) -> User:
    """The active user with these credentials, or AuthenticationFailed (same cost either way)."""
    user = None
    if _USERNAME.match(username or ""):  # no user has another shape (nor a NUL for the database)
        user = await User.get_or_none(username=username, is_active=True).prefetch_related("group")
    try:
        await _in_hasher(_verify, user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise AuthenticationFailed(msg("wrong username or password")) from None
    if user is None:
        raise AuthenticationFailed(msg("wrong username or password"))
    if _hasher.check_needs_rehash(user.password_hash):
        # The same password, hashed anew: the user's sessions go on.
        user.password_hash = await _hashed(password)
        await user.save(update_fields=["password_hash"])
    return user


async def get_user(user_id: int) -> User:
    user = await User.get_or_none(id=user_id).prefetch_related("group")
    if user is None:
        raise NotFound(msg("user %(id)s not found", id=user_id))
    return user


async def user_by_extension(extension: str) -> User | None:
    return await User.get_or_none(extension=extension, is_active=True)


async def setup_crm(
    name: str, admin_username: str, admin_password: str, admin_extension: str | None
) -> User:
    """The first-run wizard (S1): company name in Latin characters and the first admin."""
    errors: dict[str, str] = {}
    if not _LATIN_NAME.match(name or ""):
        errors["name"] = msg("Latin letters, digits, spaces and . _ & ' - (up to 100)")
    if errors:
        raise ValidationFailed(errors)
    if await has_admin():
        raise Conflict(msg("the CRM is already set up (an admin exists)"))
    async with in_transaction():
        company = await Company.first()
        if company is None:
            await Company.create(name=name)
        else:
            company.name = name
            await company.save()
        if not await TelephonySettings.exists():
            await TelephonySettings.create()
        return await create_user(
            admin_username, admin_password, group_name=ADMIN, extension=admin_extension
        )


async def get_company() -> Company:
    company = await Company.first()
    if company is None:
        company = await Company.create(name="Centralita")
    return company


async def get_telephony() -> TelephonySettings:
    settings = await TelephonySettings.first()
    if settings is None:
        settings = await TelephonySettings.create()
    return settings


async def create_group(name: str, rights: list[str]) -> Group:
    unknown = [r for r in rights if r not in RIGHTS]
    if unknown:
        raise ValidationFailed(
            {"rights": msg("unknown rights: %(rights)s", rights=", ".join(unknown))}
        )
    if not name.strip():
        raise ValidationFailed({"name": msg("required")})
    if await Group.filter(name=name).exists():
        raise Conflict(msg("a group named %(name)s exists", name=repr(name)), field="name")
    return await Group.create(name=name.strip(), rights=sorted(set(rights)))


async def list_users(*, active_only: bool = False) -> list[User]:
    query = User.all().prefetch_related("group").order_by("username")
    if active_only:
        query = query.filter(is_active=True)
    return await query


async def find_user(username: str) -> User | None:
    return await User.get_or_none(username=username).prefetch_related("group")
