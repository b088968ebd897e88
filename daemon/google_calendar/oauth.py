"""The OAuth 2.0 web flow with Google (G2): the consent address, the code exchange (with
PKCE) and the revocation, over aiohttp (models/work/calendar_api.GoogleAuthorization)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import aiohttp

from models.core.errors import msg
from models.core.settings import GoogleSettings
from models.work.calendar_api import CalendarApiError
from models.work.google_calendar import SCOPE

logger = logging.getLogger(__name__)


class GoogleOAuth:
    def __init__(self, settings: GoogleSettings) -> None:
        self._settings = settings

    def __repr__(self) -> str:
        return "GoogleOAuth(**********)"

    def _timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self._settings.request_timeout_seconds)

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        query = {
            "client_id": self._settings.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": SCOPE,
            "access_type": "offline",  # a refresh token, to sync while the user is away
            "prompt": "consent",  # a refresh token again on a reconnection
            "include_granted_scopes": "true",
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self._settings.auth_uri}?{urlencode(query)}"

    async def exchange_code(self, code: str, *, code_verifier: str, redirect_uri: str) -> str:
        form = {
            "code": code,
            "client_id": self._settings.client_id,
            "client_secret": self._settings.client_secret.get_secret_value(),
            "redirect_uri": redirect_uri,
            "grant_type": "authorization_code",
            "code_verifier": code_verifier,
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout()) as session,
                session.post(self._settings.token_uri, data=form) as answer,
            ):
                data = await answer.json(content_type=None)
                status = answer.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise CalendarApiError(
                msg("Google could not be reached: %(error)s", error=str(err) or type(err).__name__)
            ) from err
        if status != 200 or not isinstance(data, dict):
            error = data.get("error", status) if isinstance(data, dict) else status
            raise CalendarApiError(
                msg("Google refused the authorization (%(error)s)", error=error), status=status
            )
        refresh = data.get("refresh_token")
        if not refresh:
            raise CalendarApiError(msg("Google gave no lasting access: connect the calendar again"))
        return str(refresh)

    async def revoke(self, token: str) -> None:
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout()) as session,
                session.post(self._settings.revoke_uri, data={"token": token}) as answer,
            ):
                if answer.status != 200:
                    logger.warning("Google did not revoke a calendar token: HTTP %s", answer.status)
        except (aiohttp.ClientError, TimeoutError) as err:
            logger.warning("Google did not revoke a calendar token: %s", err)
