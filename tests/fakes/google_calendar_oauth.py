"""Google's OAuth 2.0 endpoints, faked: the consent page, the token endpoint and revocation.

Differences from Google, on purpose: a refresh token is issued on every offline consent (Google
issues one on the first consent or with prompt=consent), and no id_token is returned.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

ACCESS_TOKEN_SECONDS = 3600
CODE_SECONDS = 600
QUERY_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "access_type",
    "prompt",
    "code_challenge",
    "code_challenge_method",
    "login_hint",
    "include_granted_scopes",
)


@dataclass
class Grant:
    """What a user allowed one client: its refresh token and the access tokens made from it."""

    email: str
    client_id: str
    scope: str
    refresh_token: str | None
    access_tokens: set[str] = field(default_factory=set)
    is_revoked: bool = False


@dataclass
class AccessToken:
    grant: Grant
    expires_at: float


class OAuthServer:
    """Codes, grants and tokens, and the HTTP handlers that hand them out."""

    def __init__(self, client_id: str, client_secret: str, accounts: Any) -> None:
        self.clients = {client_id: client_secret}
        self.accounts = accounts  # email -> anything; only the keys are read
        self.codes: dict[str, dict[str, Any]] = {}
        self.grants: dict[str, Grant] = {}  # by refresh token
        self.access: dict[str, AccessToken] = {}
        self.revoked_tokens: set[str] = set()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/o/oauth2/v2/auth", self.consent_page),
            web.post("/o/oauth2/v2/approve", self.approve),
            web.post("/token", self.token),
            web.post("/revoke", self.revoke),
        ]

    # tokens -----------------------------------------------------------------------------
    def new_grant(self, email: str, client_id: str, scope: str, *, offline: bool) -> Grant:
        refresh = "1//0" + secrets.token_urlsafe(40) if offline else None
        grant = Grant(email, client_id, scope, refresh)
        if refresh:
            self.grants[refresh] = grant
        return grant

    def new_access_token(self, grant: Grant) -> str:
        token = "ya29." + secrets.token_urlsafe(48)
        self.access[token] = AccessToken(grant, time.time() + ACCESS_TOKEN_SECONDS)
        grant.access_tokens.add(token)
        return token

    def check_access_token(self, token: str) -> Grant | None:
        known = self.access.get(token)
        if known is None or known.grant.is_revoked or known.expires_at < time.time():
            return None
        return known.grant

    def expire_access_tokens(self) -> None:
        for known in self.access.values():
            known.expires_at = 0

    # the consent page -------------------------------------------------------------------
    def _client_error(self, query: Any) -> str | None:
        if query.get("client_id") not in self.clients:
            return "Error 401: invalid_client. The OAuth client was not found."
        if not query.get("redirect_uri"):
            return "Error 400: invalid_request. Missing required parameter: redirect_uri"
        if query.get("response_type") != "code":
            return "Error 400: unsupported_response_type"
        if not query.get("scope"):
            return "Error 400: invalid_request. Missing required parameter: scope"
        return None

    async def consent_page(self, request: web.Request) -> web.Response:
        query = request.query
        problem = self._client_error(query)
        if problem:
            return _page("Access blocked", f"<p id='error'>{html.escape(problem)}</p>", 400)
        hidden = "".join(
            f"<input type='hidden' name='{name}' value='{html.escape(query[name], quote=True)}'>"
            for name in QUERY_FIELDS
            if name in query
        )
        chosen = query.get("login_hint") if query.get("login_hint") in self.accounts else None
        rows = []
        for index, email in enumerate(self.accounts):
            checked = " checked" if email == chosen or (chosen is None and index == 0) else ""
            safe = html.escape(email, quote=True)
            rows.append(
                f"<div><input type='radio' name='account' id='account-{index}' value='{safe}'"
                f"{checked}> <label for='account-{index}'>{safe}</label></div>"
            )
        body = (
            "<h1>Choose an account</h1>"
            f"<p>to continue to <span id='client'>{html.escape(query['client_id'])}</span></p>"
            f"<form method='post' action='/o/oauth2/v2/approve'>{hidden}{''.join(rows)}"
            f"<p>Requested access: <span id='scope'>{html.escape(query['scope'])}</span></p>"
            "<button type='submit' id='allow' name='decision' value='allow'>Allow</button> "
            "<button type='submit' id='deny' name='decision' value='deny'>Deny</button>"
            "</form>"
        )
        return _page("Sign in - Google Accounts", body)

    async def approve(self, request: web.Request) -> web.Response:
        form = await request.post()
        problem = self._client_error(form)
        if problem:
            return _page("Access blocked", f"<p id='error'>{html.escape(problem)}</p>", 400)
        redirect_uri = str(form["redirect_uri"])
        answer: dict[str, str] = {}
        if form.get("decision") != "allow":
            answer["error"] = "access_denied"
        else:
            email = str(form.get("account", ""))
            if email not in self.accounts:
                return _page("Error", "<p id='error'>No account chosen.</p>", 400)
            code = "4/0" + secrets.token_urlsafe(32)
            self.codes[code] = {
                "email": email,
                "client_id": str(form["client_id"]),
                "redirect_uri": redirect_uri,
                "scope": str(form["scope"]),
                "offline": form.get("access_type") == "offline",
                "challenge": form.get("code_challenge"),
                "method": form.get("code_challenge_method", "plain"),
                "expires_at": time.time() + CODE_SECONDS,
            }
            answer.update(code=code, scope=str(form["scope"]))
        if "state" in form:
            answer["state"] = str(form["state"])
        separator = "&" if "?" in redirect_uri else "?"
        raise web.HTTPFound(redirect_uri + separator + urlencode(answer))

    # the token endpoint -----------------------------------------------------------------
    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                pair = base64.b64decode(header[6:]).decode()
            except ValueError:
                pair = ":"
            client_id, _, secret = pair.partition(":")
        if client_id not in self.clients or self.clients[str(client_id)] != secret:
            return _oauth_error(401, "invalid_client", "Unauthorized")
        grant_type = str(form.get("grant_type", ""))
        if grant_type == "authorization_code":
            return self._exchange_code(form, str(client_id))
        if grant_type == "refresh_token":
            grant = self.grants.get(str(form.get("refresh_token", "")))
            if grant is None or grant.is_revoked or grant.client_id != client_id:
                return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
            return web.json_response(self._token_answer(grant, with_refresh=False))
        if not grant_type:
            return _oauth_error(400, "unsupported_grant_type", "Invalid grant_type: ")
        return _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _exchange_code(self, form: Any, client_id: str) -> web.Response:
        code = self.codes.pop(str(form.get("code", "")), None)
        if code is None or code["expires_at"] < time.time() or code["client_id"] != client_id:
            return _oauth_error(400, "invalid_grant", "Malformed auth code.")
        if form.get("redirect_uri") != code["redirect_uri"]:
            return _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        if code["challenge"]:
            verifier = form.get("code_verifier")
            if not verifier:
                return _oauth_error(400, "invalid_grant", "Missing code verifier.")
            if code["method"] == "S256":
                digest = hashlib.sha256(str(verifier).encode()).digest()
                verifier = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if verifier != code["challenge"]:
                return _oauth_error(400, "invalid_grant", "Invalid code verifier.")
        grant = self.new_grant(code["email"], client_id, code["scope"], offline=code["offline"])
        return web.json_response(self._token_answer(grant, with_refresh=True))

    def _token_answer(self, grant: Grant, *, with_refresh: bool) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "access_token": self.new_access_token(grant),
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": grant.scope,
            "token_type": "Bearer",
        }
        if with_refresh and grant.refresh_token:
            answer["refresh_token"] = grant.refresh_token
        return answer

    # revocation -------------------------------------------------------------------------
    async def revoke(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = str(form.get("token") or request.query.get("token") or "")
        grant = self.grants.get(token)
        if grant is None and token in self.access:
            grant = self.access[token].grant
        if grant is None or grant.is_revoked:
            return _oauth_error(400, "invalid_token", "Token expired or revoked")
        grant.is_revoked = True
        self.revoked_tokens.add(token)
        if grant.refresh_token:
            self.revoked_tokens.add(grant.refresh_token)
        return web.json_response({})


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )
    return web.Response(text=text, status=status, content_type="text/html")
