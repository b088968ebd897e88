"""Invitations sent by email (M2): the invitation and its email written together.

The invitation itself belongs to the team (models/people/team.py); this module adds the email
that carries its link, queued in the outbox, and tells where each one stands.
"""

from __future__ import annotations

from collections.abc import Callable

from tortoise.transactions import in_transaction

from models.core.clock import Clock
from models.core.errors import ValidationFailed, msg
from models.messaging import mail
from models.people.permissions import AGENT, require
from models.people.team import INVITE_HOURS, create_invite
from models.schema.users import Invite, User


def invite_email_key(invite_id: int) -> str:
    """The outbox key of an invitation's email, to tell whether it went out."""
    return f"invite:{invite_id}"


async def invite_by_email(
    actor: User,
    clock: Clock,
    *,
    email: str,
    compose: Callable[[str], mail.OutgoingEmail],
    extension: str | None = None,
    group_name: str = AGENT,
    hours: int = INVITE_HOURS,
) -> tuple[Invite, str]:
    """An invitation and the email carrying its link, written together or not at all.

    `compose(token)` writes the email (the caller knows the panel's address and the inviter's
    language); it is queued in the outbox and sent by the daemon's mail sender.
    """
    require(actor, "users.manage")
    if not email.strip():
        raise ValidationFailed({"email": msg("an email address is needed to send the invitation")})
    email = mail.check_address(email)
    async with in_transaction():
        invite, token = await create_invite(
            actor,
            clock.now(),
            email=email,
            extension=extension,
            group_name=group_name,
            hours=hours,
        )
        message = compose(token)
        if message.to != email:
            raise ValueError("the invitation email must go to the invited address")
        await mail.queue_email(
            message, clock=clock, dedupe_key=invite_email_key(invite.id), key_is_new=True
        )
    return invite, token


async def invite_deliveries(invites: list[Invite]) -> dict[int, mail.Delivery]:
    """For each invitation sent by email: where its email stands (queued, sent, dead)."""
    keys = {invite_email_key(invite.id): invite.id for invite in invites if invite.email}
    found = await mail.deliveries(list(keys))
    return {keys[key]: delivery for key, delivery in found.items()}
