"""Connecting a user's Google Calendar (G2): the OAuth states, the kept refresh token, the
chosen calendar and options, the push channel, and the sync's health.

The refresh token is sealed with the installation's key and only opened to talk to Google;
the channel token Google echoes on push notifications is kept as its SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta

from models.core.clock import Clock
from models.core.errors import Message, ValidationFailed, msg
from models.core.secret_box import SecretBox
from models.schema.calendar_sync import GoogleCalendarLink, GoogleEventLink, GoogleOAuthState
from models.schema.users import User

SCOPE = "https://www.googleapis.com/auth/calendar"
STATE_LIFETIME = timedelta(minutes=15)
CALLBACK_PATH = "/settings/google/callback"
NOTIFY_PATH = "/google/calendar/notify"
MAX_BACKOFF = timedelta(hours=1)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def redirect_uri(public_url: str) -> str:
    """Where Google sends the browser back: the address to register in Google's console."""
    return public_url.rstrip("/") + CALLBACK_PATH


async def start_authorization(user: User, *, clock: Clock) -> tuple[str, str]:
    """A new `state` for the authorization request and its PKCE S256 code challenge."""
    now = clock.now()
    await GoogleOAuthState.filter(created_at__lt=now - STATE_LIFETIME).delete()
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)[:128]
    await GoogleOAuthState.create(
        state_hash=_sha256(state), code_verifier=verifier, user_id=user.id, created_at=now
    )
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    return state, challenge


async def finish_authorization(user: User, state: str, *, clock: Clock) -> str:
    """The PKCE verifier of this user's authorization `state`, used once; an unknown, stale
    or someone else's state is refused."""
    row = await GoogleOAuthState.get_or_none(state_hash=_sha256(state or ""))
    if row is not None:
        await row.delete()
    if row is None or row.user_id != user.id or clock.now() - row.created_at > STATE_LIFETIME:
        raise ValidationFailed(
            {"state": msg("the authorization with Google expired or is not yours: start again")}
        )
    return row.code_verifier


async def connection_of(user: User) -> GoogleCalendarLink | None:
    return await GoogleCalendarLink.get_or_none(user_id=user.id)


async def save_connection(
    user: User, refresh_token: str, *, box: SecretBox, google_email: str = ""
) -> GoogleCalendarLink:
    """Keep the refresh token of a (re)connection; a reconnection keeps the chosen calendar
    when it is the same Google account."""
    link = await connection_of(user)
    sealed = box.seal(refresh_token)
    if link is None:
        return await GoogleCalendarLink.create(
            user_id=user.id, refresh_token_sealed=sealed, google_email=google_email
        )
    if google_email and link.google_email and google_email != link.google_email:
        await GoogleEventLink.filter(calendar_id=link.id).delete()
        link.calendar_id, link.calendar_name, link.sync_token = "", "", ""
    link.refresh_token_sealed = sealed
    link.google_email = google_email or link.google_email
    link.needs_reconnect, link.failures, link.last_error = False, 0, ""
    link.next_attempt_at = None
    await link.save()
    return link


def refresh_token_of(link: GoogleCalendarLink, box: SecretBox) -> str:
    """The refresh token (SecretUnreadable when the installation's key changed)."""
    return box.open(link.refresh_token_sealed)


async def choose_calendar(
    link: GoogleCalendarLink,
    calendar_id: str,
    calendar_name: str,
    *,
    push_to_google: bool,
    pull_from_google: bool,
    known_ids: list[str],
) -> GoogleCalendarLink:
    """Sync with `calendar_id` (one of the account's, `known_ids`). Another calendar than
    before starts afresh: events already written stay in the old calendar."""
    if calendar_id not in known_ids:
        raise ValidationFailed({"calendar_id": msg("choose one of your calendars")})
    if calendar_id != link.calendar_id:
        await GoogleEventLink.filter(calendar_id=link.id).delete()
        link.sync_token = ""
        link.last_full_sync_at = None
    link.calendar_id = calendar_id
    link.calendar_name = calendar_name[:255]
    link.push_to_google = push_to_google
    link.pull_from_google = pull_from_google
    await link.save()
    return link


async def forget_connection(link: GoogleCalendarLink) -> None:
    """Drop the connection and its event links; tasks and Google's events stay."""
    await link.delete()


def _kept(text: str) -> str:
    """A reason as stored: a Message keeps its words and values, to be shown in the reader's
    language later (error_in)."""
    if isinstance(text, Message):
        params = {k: str(v) for k, v in text.params.items()}
        kept = json.dumps({"msgid": text.msgid, "params": params}, ensure_ascii=False)
        if len(kept) <= 500:
            return kept
    return str(text)[:500]


def error_in(link: GoogleCalendarLink, lang: str) -> str:
    """The connection's last error in `lang` ("" when none)."""
    text = link.last_error
    if text.startswith("{"):
        try:
            data = json.loads(text)
            return Message(data["msgid"], **data["params"]).in_language(lang)
        except (ValueError, KeyError, TypeError):
            pass
    return text


async def record_failure(link: GoogleCalendarLink, text: str, *, clock: Clock) -> None:
    """The sync failed: keep the reason for the settings page and wait longer each time."""
    link.failures += 1
    link.last_error = _kept(text)
    wait = min(timedelta(minutes=2 ** min(link.failures - 1, 10)), MAX_BACKOFF)
    link.next_attempt_at = clock.now() + wait
    await link.save(update_fields=["failures", "last_error", "next_attempt_at"])


async def record_revoked(link: GoogleCalendarLink, text: str) -> None:
    """Google refused the refresh token: no more tries until the user connects again."""
    link.needs_reconnect = True
    link.last_error = _kept(text)
    await link.save(update_fields=["needs_reconnect", "last_error"])


async def record_success(link: GoogleCalendarLink) -> None:
    if link.failures or link.last_error or link.next_attempt_at:
        link.failures, link.last_error, link.next_attempt_at = 0, "", None
        await link.save(update_fields=["failures", "last_error", "next_attempt_at"])


async def connections_due(now: datetime, user_id: int | None = None) -> list[GoogleCalendarLink]:
    """Connections ready to sync: a calendar chosen, not waiting after a failure, usable."""
    qs = GoogleCalendarLink.filter(needs_reconnect=False).exclude(calendar_id="")
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    return [
        link
        for link in await qs.order_by("id")
        if link.next_attempt_at is None or link.next_attempt_at <= now
    ]


def new_channel_token() -> tuple[str, str]:
    """A token for a watch channel and the hash kept of it."""
    token = secrets.token_urlsafe(32)
    return token, _sha256(token)


async def save_channel(
    link: GoogleCalendarLink, channel_id: str, resource_id: str, token_hash: str, expires: datetime
) -> None:
    link.channel_id, link.channel_resource_id = channel_id, resource_id
    link.channel_token_hash, link.channel_expires_at = token_hash, expires
    await link.save(
        update_fields=[
            "channel_id",
            "channel_resource_id",
            "channel_token_hash",
            "channel_expires_at",
        ]
    )


async def notification_received(channel_id: str, token: str, *, clock: Clock) -> int | None:
    """A push notification from Google: the user whose calendar changed, once the channel
    and its token check out (None otherwise: nothing is done)."""
    if not channel_id or not token:
        return None
    link = await GoogleCalendarLink.get_or_none(channel_id=channel_id[:64])
    if link is None or not hmac.compare_digest(link.channel_token_hash, _sha256(token)):
        return None
    link.pull_requested_at = clock.now()
    await link.save(update_fields=["pull_requested_at"])
    return link.user_id
