"""Sessions in signed cookies, CSRF tokens and the login rate limit.

The session is a small JSON object (user id, CSRF token, expiry) signed with HMAC-SHA256:
the browser holds it but cannot change it. Every state-changing request must echo the
session's CSRF token, in the form field `csrf_token` or the `X-CSRF-Token` header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from collections import defaultdict, deque
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from models.core.settings import Settings

logger = logging.getLogger(__name__)

COOKIE_NAME = "centralita_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def load_secret(settings: Settings) -> bytes:
    """The signing key: from the settings, else kept in data_dir/secret_key (made once)."""
    configured = settings.web.secret_key.get_secret_value()
    if configured:
        return configured.encode()
    path = Path(settings.data_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    logger.info("generated a new session signing key in %s", path)
    return key.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Session(dict):
    """The session's data; `changed` tells the middleware to send the cookie again."""

    changed: bool = False

    def mark(self) -> None:
        self.changed = True

    @property
    def csrf(self) -> str:
        token = self.get("csrf")
        if not token:
            token = self["csrf"] = secrets.token_urlsafe(24)
            self.changed = True
        return token


class SessionCodec:
    """Signs and reads session cookies."""

    def __init__(self, key: bytes, *, lifetime: timedelta, secure: bool) -> None:
        self._key = hashlib.sha256(b"centralita-session|" + key).digest()
        self.lifetime = lifetime
        self.secure = secure

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def dumps(self, data: dict[str, Any]) -> str:
        payload = _b64(json.dumps(data, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def loads(self, cookie: str | None, now: datetime) -> Session:
        if not cookie or "." not in cookie:
            return Session()
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(payload)):
            return Session()
        try:
            data = json.loads(_unb64(payload))
        except ValueError:
            return Session()
        if not isinstance(data, dict) or data.get("exp", 0) < now.timestamp():
            return Session()
        session = Session(data)
        # Sliding expiry: renew once a tenth of the lifetime has passed.
        if data["exp"] - now.timestamp() < self.lifetime.total_seconds() * 0.9:
            session.changed = True
        return session

    def write(self, response: web.StreamResponse, session: Session, now: datetime) -> None:
        if not session:
            response.del_cookie(COOKIE_NAME, path="/")
            return
        session["exp"] = int((now + self.lifetime).timestamp())
        response.set_cookie(
            COOKIE_NAME,
            self.dumps(dict(session)),
            path="/",
            httponly=True,
            samesite="Lax",
            secure=self.secure,
            max_age=int(self.lifetime.total_seconds()),
        )


async def csrf_token_of(request: web.Request) -> str:
    """The token the request carries: header first, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def check_csrf(request: web.Request, session: Session) -> bool:
    expected = session.get("csrf")
    if not expected:
        return False
    return hmac.compare_digest(await csrf_token_of(request), expected)


def password_mark(password_hash: str) -> str:
    """A short fingerprint of the password hash kept in the session: changing the password
    changes it, which ends every other session of that user."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class LoginLimiter:
    """Failed logins per address in a sliding one-minute window."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._failures: dict[str, deque[datetime]] = defaultdict(deque)

    def _prune(self, address: str, now: datetime) -> deque[datetime]:
        window = self._failures[address]
        while window and now - window[0] >= timedelta(minutes=1):
            window.popleft()
        if not window:
            del self._failures[address]
            return deque()
        return window

    def is_blocked(self, address: str, now: datetime) -> bool:
        return len(self._prune(address, now)) >= self.per_minute

    def retry_after(self, address: str, now: datetime) -> int:
        window = self._prune(address, now)
        if not window:
            return 0
        return max(1, int((window[0] + timedelta(minutes=1) - now).total_seconds()) + 1)

    def failed(self, address: str, now: datetime) -> None:
        self._failures[address].append(now)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)
