"""API tokens (X3): a token acts as its user on /api/v1, with the scope "read" or "write".

The plain token is returned once, when it is made; the table keeps only its SHA-256 and its
first characters (`token_prefix`) so that the owner can tell tokens apart. A revoked token, or
one of a deactivated user, authenticates nobody. The last use (time and address) is written
at most once a minute, so a busy integration costs one indexed read per call.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from models.core.clock import Clock
from models.core.errors import NotFound, PermissionDenied, ValidationFailed, msg
from models.people.permissions import is_admin
from models.schema.integrations import ApiToken
from models.schema.users import User

logger = logging.getLogger(__name__)

SCOPES = ("read", "write")
# Every token starts with this, so a leaked one is easy to recognise (secret scanners).
PREFIX = "ctl_"
LAST_USE_EVERY = timedelta(minutes=1)
_PREFIX_SHOWN = 12
_NAME_MAX = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def create_token(
    user: User, *, name: str = "", scope: str = "read", clock: Clock
) -> tuple[ApiToken, str]:
    """A new token of `user`: the stored row and the plain token, which is never shown again."""
    errors: dict[str, str] = {}
    if scope not in SCOPES:
        errors["scope"] = msg("must be one of: %(choices)s", choices=", ".join(SCOPES))
    name = (name or "").strip()
    if len(name) > _NAME_MAX:
        errors["name"] = msg("at most %(n)s characters", n=_NAME_MAX)
    if not user.is_active:
        errors["user"] = msg("this user is deactivated")
    if errors:
        raise ValidationFailed(errors)
    plain = PREFIX + secrets.token_urlsafe(32)
    token = await ApiToken.create(
        user_id=user.id,
        name=name,
        token_hash=_hash(plain),
        token_prefix=plain[:_PREFIX_SHOWN],
        scope=scope,
        created_at=clock.now(),
    )
    logger.info("API token %s (%s) created for %s", token.id, scope, user.username)
    return token, plain


async def list_tokens(user: User | None = None) -> list[ApiToken]:
    """The tokens of `user` (None: everyone's, for the command line), newest first."""
    qs = ApiToken.all() if user is None else ApiToken.filter(user_id=user.id)
    return await qs.order_by("-created_at", "-id").prefetch_related("user")


async def revoke_token(actor: User | None, token_id: int, *, clock: Clock) -> ApiToken:
    """Revoke a token: its owner or an admin may (`actor` None: the command line)."""
    token = await ApiToken.get_or_none(id=token_id)
    # Another user's token is answered like a missing one, unless the actor is an admin.
    if token is None or (actor is not None and token.user_id != actor.id and not is_admin(actor)):
        raise NotFound(msg("token %(id)s not found", id=token_id))
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        await token.save(update_fields=["revoked_at"])
        logger.info("API token %s revoked", token.id)
    return token


async def authenticate(plain: str, *, clock: Clock, address: str = "") -> tuple[User, str]:
    """The user and scope of a valid token; PermissionDenied for any other (no detail on why:
    unknown, revoked or deactivated look the same)."""
    if not plain.startswith(PREFIX) or len(plain) > 200:
        raise PermissionDenied(msg("invalid or revoked API token"))
    token = await ApiToken.get_or_none(token_hash=_hash(plain)).prefetch_related("user__group")
    if token is None or token.revoked_at is not None or not token.user.is_active:
        raise PermissionDenied(msg("invalid or revoked API token"))
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_EVERY:
        await ApiToken.filter(id=token.id).update(last_used_at=now, last_used_ip=address[:45])
    return token.user, token.scope
