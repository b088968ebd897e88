"""Outgoing email (M2, G5): messages queued in the outbox with the change that causes them.

An email is one outbox row of kind "email" whose payload holds the recipient, the subject, the
plain-text body and optionally an HTML alternative; the daemon's SMTP sender (daemon/mail.py)
delivers it. Texts are composed by the caller, in the language of whoever caused the email.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.core.clock import Clock
from models.core.errors import ValidationFailed, msg
from models.messaging import outbox
from models.schema.outbox import OutboxMessage

KIND = "email"


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str = ""

    def payload(self) -> dict[str, Any]:
        data = {"to": self.to, "subject": self.subject, "text": self.text}
        if self.html:
            data["html"] = self.html
        return data


@dataclass(frozen=True)
class Delivery:
    """Where a queued email stands: pending, sending, sent or dead (with the last error)."""

    status: str
    error: str = ""


def check_address(address: str) -> str:
    """A plausible single address (no display name, no header injection), stripped."""
    address = address.strip()
    local, _, domain = address.rpartition("@")
    if (
        not local
        or "." not in domain
        or any(c.isspace() or c in ",;<>\"'" for c in address)
        or len(address) > 254
    ):
        raise ValidationFailed({"email": msg("not an email address")})
    return address


async def queue_email(
    email: OutgoingEmail, *, clock: Clock, dedupe_key: str | None = None, key_is_new: bool = False
) -> OutboxMessage:
    """Queue `email` in the caller's transaction; the worker sends it after the commit."""
    check_address(email.to)
    if "\n" in email.subject or "\r" in email.subject:
        raise ValidationFailed({"subject": msg("one line only")})
    return await outbox.enqueue(
        KIND, email.payload(), clock=clock, dedupe_key=dedupe_key, key_is_new=key_is_new
    )


async def deliveries(dedupe_keys: list[str]) -> dict[str, Delivery]:
    """The state of the emails queued under these keys (the ones found)."""
    if not dedupe_keys:
        return {}
    rows = await OutboxMessage.filter(kind=KIND, dedupe_key__in=dedupe_keys).only(
        "id", "dedupe_key", "status", "last_error"
    )
    return {row.dedupe_key: Delivery(row.status, row.last_error) for row in rows if row.dedupe_key}
