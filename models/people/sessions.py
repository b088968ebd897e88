"""Logged-in sessions kept on the server (issue 14, item 16).

The browser's cookie carries a random key; the table keeps only its SHA-256 with the user,
when it started, when it was last used, when it expires and which browser and address it came
from. Ending a session deletes its row, so a copied cookie stops working at once: logout ends
one, a password change every other one of that user, a deactivation all of them, and the
profile page lists them and ends the others. "Last seen" is written at most once a minute, so
an ordinary page view costs one indexed read.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import cast

from tortoise.queryset import QuerySet

from models.core.errors import NotFound, msg
from models.schema.sessions import UserSession
from models.schema.users import User

LAST_SEEN_EVERY = timedelta(minutes=1)
_KEY_BYTES = 32

# (pattern, name): the first that matches names the browser or the system. Order matters:
# Edge and Opera say "Chrome" too, Chrome says "Safari", Android says "Linux".
_BROWSERS = (
    (re.compile(r"Edg(e|A|iOS)?/"), "Edge"),
    (re.compile(r"OPR/|Opera"), "Opera"),
    (re.compile(r"Firefox/|FxiOS/"), "Firefox"),
    (re.compile(r"Chrome/|Chromium/|CriOS/"), "Chrome"),
    (re.compile(r"Safari/"), "Safari"),
)
_SYSTEMS = (
    (re.compile(r"Android"), "Android"),
    (re.compile(r"iPhone|iPad|iPod"), "iOS"),
    (re.compile(r"Windows"), "Windows"),
    (re.compile(r"Mac OS X|Macintosh"), "macOS"),
    (re.compile(r"CrOS"), "ChromeOS"),
    (re.compile(r"Linux|X11"), "Linux"),
)


def _printable(text: str) -> str:
    """Headers as shown on the profile page: no control characters (nor a NUL, which
    PostgreSQL cannot store)."""
    return "".join(ch for ch in text if ch.isprintable())


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def device_of(user_agent: str) -> str:
    """The browser and system of a User-Agent header ("Firefox · Windows"), or ""."""
    browser = next((name for pattern, name in _BROWSERS if pattern.search(user_agent)), "")
    system = next((name for pattern, name in _SYSTEMS if pattern.search(user_agent)), "")
    return " · ".join(part for part in (browser, system) if part)


async def open_session(
    user: User,
    now: datetime,
    *,
    lifetime: timedelta,
    user_agent: str = "",
    address: str = "",
) -> tuple[str, UserSession]:
    """A new session of `user`; returns the secret key for the cookie and the stored row.

    Expired sessions of everyone are purged first: logins are rare enough to carry it.
    """
    await purge_expired(now)
    key = secrets.token_urlsafe(_KEY_BYTES)
    row = await UserSession.create(
        key_hash=key_hash(key),
        user=user,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        user_agent=_printable(user_agent)[:255],
        address=_printable(address)[:64],
    )
    return key, row


async def resolve(key: str, now: datetime, *, lifetime: timedelta) -> UserSession | None:
    """The live session behind a cookie's key, with its user (and the user's group), or None
    when it was ended, has expired or its user was deactivated."""
    if not key or len(key) > 200:
        return None
    row = await UserSession.get_or_none(key_hash=key_hash(key)).select_related("user__group")
    if row is None or row.expires_at <= now or not row.user.is_active:
        return None
    if now - row.last_seen_at >= LAST_SEEN_EVERY:
        row.last_seen_at = now
        row.expires_at = now + lifetime
        await UserSession.filter(id=row.id).update(last_seen_at=now, expires_at=row.expires_at)
    return row


async def end_session(key: str) -> list[int]:
    """Logout: the session behind this key ends. Returns the ids ended (none or one)."""
    if not key:
        return []
    return await _end(UserSession.filter(key_hash=key_hash(key)))


async def end_sessions_of(user_id: int, *, keep: int | None = None) -> list[int]:
    """Every session of a user ends, except `keep` (the one asking, when given)."""
    query = UserSession.filter(user_id=user_id)
    if keep is not None:
        query = query.exclude(id=keep)
    return await _end(query)


async def end_own_session(user: User, session_id: int) -> list[int]:
    """A user ends one of their own sessions from the profile page."""
    if not 0 < session_id < 2**31:  # the column's range: anything else is no session
        raise NotFound(msg("this session has already ended"))
    ended = await _end(UserSession.filter(id=session_id, user_id=user.id))
    if not ended:
        raise NotFound(msg("this session has already ended"))
    return ended


async def _end(query: QuerySet[UserSession]) -> list[int]:
    ids = cast(list[int], await query.values_list("id", flat=True))
    if ids:
        await UserSession.filter(id__in=ids).delete()
    return ids


async def sessions_of(user: User, now: datetime) -> list[UserSession]:
    """A user's live sessions, the most recently used first."""
    return (
        await UserSession.filter(user_id=user.id, expires_at__gt=now)
        .order_by("-last_seen_at", "-id")
        .limit(100)
    )


async def live_among(session_ids: Iterable[int], now: datetime) -> set[int]:
    """Which of these sessions are still open (for the web's open websockets)."""
    ids = list(session_ids)
    if not ids:
        return set()
    alive = await UserSession.filter(
        id__in=ids, expires_at__gt=now, user__is_active=True
    ).values_list("id", flat=True)
    return set(cast(list[int], alive))


async def purge_expired(now: datetime) -> int:
    """Forget the sessions that have expired; returns how many."""
    return await UserSession.filter(expires_at__lte=now).delete()
