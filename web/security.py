"""The session cookie, CSRF tokens and where a login comes from.

The cookie is a small JSON object signed with HMAC-SHA256 (the browser holds it but cannot
change it): the CSRF token, a flash message, and once logged in the random key of a session
kept on the server (models/people/sessions.py), which is what says who is logged in. Every
state-changing request must echo the cookie's CSRF token, in the form field `csrf_token` or
the `X-CSRF-Token` header; a login starts a fresh cookie, so each session has its own token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from datetime import datetime, timedelta
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any

from aiohttp import web

from models.core.settings import Settings
from models.people.login_throttle import ThrottlePolicy

logger = logging.getLogger(__name__)

COOKIE_NAME = "centralita_session"
# The cookie field holding the server-side session's key.
SESSION_KEY = "sid"
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


class LoginPolicy:
    """Where a login comes from and how failed logins are slowed down.

    The address is the connection's peer (`request.remote`), except when that peer is one of
    the configured `[web] trusted_proxies`: then it is the nearest address of X-Forwarded-For
    that is not a trusted proxy itself. Without trusted proxies the header is ignored, so a
    client cannot choose the address it is counted under.
    """

    def __init__(self, throttle: ThrottlePolicy, trusted_proxies: list[str]) -> None:
        self.throttle = throttle
        self._proxies = tuple(ip_network(item, strict=False) for item in trusted_proxies)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        throttle = ThrottlePolicy(
            account_failures=settings.web.login_failures_per_account,
            address_failures=settings.web.login_attempts_per_minute,
        )
        return cls(throttle, settings.web.trusted_proxies)

    def _trusted(self, address: str) -> bool:
        try:
            ip = ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._proxies)

    def client_address(self, request: web.Request) -> str:
        address = request.remote or "unknown"
        if not self._proxies or not self._trusted(address):
            return address
        hops = [
            hop.strip()
            for value in request.headers.getall("X-Forwarded-For", [])
            for hop in value.split(",")
        ]
        for hop in reversed(hops):
            try:
                ip_address(hop)
            except ValueError:
                break  # not written by a proxy we trust: stop at the last address we know
            address = hop
            if not self._trusted(hop):
                break
        return address
