"""Calling /api/v1 of the real app as an outside program would: a Bearer token and JSON."""

from __future__ import annotations

from typing import Any

import aiohttp

from models.core.clock import Clock
from models.people import api_tokens
from models.schema.users import User

PROBLEM = "application/problem+json"


async def token_of(user: User, clock: Clock, scope: str = "write") -> str:
    """A fresh plain token of `user` (made through the domain, as the profile page does)."""
    _, plain = await api_tokens.create_token(user, name="test", scope=scope, clock=clock)
    return plain


async def api(
    http: aiohttp.ClientSession,
    url: str,
    method: str,
    path: str,
    token: str | None,
    *,
    json: Any = None,
    data: str | bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    """(status, decoded body or None, headers) of one call."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    async with http.request(
        method, f"{url}/api/v1{path}", json=json, data=data, headers=sent
    ) as resp:
        raw = await resp.read()
        body = None
        if raw and resp.content_type in ("application/json", PROBLEM):
            body = await resp.json(content_type=None)
        if resp.status >= 400:
            assert resp.content_type == PROBLEM, (resp.status, raw)
            assert body["status"] == resp.status
        return resp.status, body, resp.headers
