"""The outbox sender of kind "mail_out": users' mail (C6, C8) over their mailbox's SMTP.

Per message: the MIME message is built from the `EmailMessage` row (models/messaging/
mail_compose.py wrote it, with its Message-ID), sent with aiosmtplib through the mailbox's
server and login, then filed in the mailbox's Sent folder with an IMAP APPEND of the same
bytes unless the server files sent mail itself. A temporary SMTP answer (4xx) or a network
failure is retried by the outbox worker with backoff; a permanent one (5xx) marks the
message failed with the server's answer. A failed APPEND is logged and never resends the
mail. The password goes to aiosmtplib and the IMAP login only; it is never logged.
"""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any, NoReturn

import aiosmtplib

from daemon.mail import classify
from daemon.mail_imap import open_imap
from daemon.outbox_worker import OutboxWorker
from models.core.clock import Clock
from models.core.secret_box import SecretBox, SecretUnreadable
from models.messaging import outbox
from models.messaging.mail_accounts import imap_endpoint, password_of, smtp_endpoint
from models.messaging.mail_compose import FAILED, KIND, QUEUED, SENT
from models.schema.activity import EmailMessage
from models.schema.mail import MailAccount

logger = logging.getLogger(__name__)


def _address(display_name: str, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=display_name, username=local, domain=domain)


def _html_of(text: str) -> str:
    """The plain text as HTML: escaped, line breaks kept, the signature greyed."""
    body, sep, signature = text.partition("\n-- \n")
    parts = [html.escape(body).replace("\n", "<br>\n")]
    if sep:
        sig = html.escape(signature).replace("\n", "<br>\n")
        parts.append(f'<div style="color:#666">--&nbsp;<br>\n{sig}</div>')
    return (
        '<!DOCTYPE html>\n<html><body><div dir="auto">'
        + "\n".join(parts)
        + "</div></body></html>\n"
    )


def build_message(email: EmailMessage, account: MailAccount, date: datetime) -> MimeMessage:
    """The MIME message: encoded headers (accents, Cyrillic, emoji), text/plain with an HTML
    alternative, the threading headers of a reply."""
    message = MimeMessage()
    message["From"] = _address(account.display_name, account.address)
    message["To"] = [_address("", a.strip()) for a in email.recipients.split(",") if a.strip()]
    message["Subject"] = email.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = email.message_id
    if email.in_reply_to:
        message["In-Reply-To"] = email.in_reply_to
    if email.references:
        message["References"] = email.references
    message.set_content(email.body)
    message.add_alternative(_html_of(email.body), subtype="html")
    return message


class MailOutSender:
    """Registered on the outbox worker for kind "mail_out"; one SMTP session per message."""

    def __init__(self, box: SecretBox, clock: Clock, *, timeout: float = 30.0) -> None:
        self.box = box
        self.clock = clock
        self.timeout = timeout

    async def __call__(self, payload: dict[str, Any]) -> dict[str, Any]:
        email = await EmailMessage.get_or_none(id=payload.get("email_id"))
        if email is None:
            raise outbox.PermanentFailure("the email was deleted before it was sent")
        if email.status == SENT:
            return {"message_id": email.message_id, "already": True}  # sent before a crash
        if email.status == FAILED:
            raise outbox.PermanentFailure(email.error or "the email failed before")
        account = await MailAccount.get_or_none(id=email.account_id) if email.account_id else None
        if account is None:
            await _fail(email, "the mailbox was removed before the email was sent")
        try:
            password = password_of(account, self.box)
        except SecretUnreadable:
            await _fail(email, "the mailbox password cannot be read: enter it again in Settings")
        now = self.clock.now()
        try:
            raw = build_message(email, account, now).as_bytes(policy=SMTP)
        except Exception as err:  # an address or header no mail server could take
            await _fail(email, f"the message cannot be written: {err}", err)
        recipients = [a.strip() for a in email.recipients.split(",") if a.strip()]
        endpoint = smtp_endpoint(account)
        try:
            refused, reply = await aiosmtplib.send(
                raw,
                sender=account.address,
                recipients=recipients,
                hostname=endpoint.host,
                port=endpoint.port,
                use_tls=endpoint.security == "tls",
                start_tls=endpoint.security == "starttls",
                username=account.login or account.address,
                password=password,
                timeout=self.timeout,
            )
        except asyncio.CancelledError:
            raise
        except Exception as err:
            failure = classify(err)
            if isinstance(failure, outbox.PermanentFailure):
                await _fail(email, str(failure), err)
            await EmailMessage.filter(id=email.id).update(error=str(failure)[:500])
            raise failure from err  # the worker retries with backoff
        refusals = "; ".join(f"{a}: SMTP {r.code} {r.message}" for a, r in refused.items())
        await EmailMessage.filter(id=email.id).update(
            status=SENT, sent_at=now, error=refusals[:500]
        )
        logger.info("email %s sent from mailbox %s", email.id, account.id)
        if not account.server_saves_sent:
            await self._file_in_sent(account, password, raw, now)
        return {"message_id": email.message_id, "reply": reply}

    async def _file_in_sent(
        self, account: MailAccount, password: str, raw: bytes, date: datetime
    ) -> None:
        """IMAP APPEND to the Sent folder; found once and kept in account.sent_folder."""
        try:
            connection = await open_imap(
                imap_endpoint(account),
                account.login or account.address,
                password,
                timeout=self.timeout,
            )
            try:
                folder = account.sent_folder or await connection.find_sent_folder()
                if not folder:
                    logger.warning("mailbox %s has no Sent folder: sent mail not filed", account.id)
                    return
                if folder != account.sent_folder:
                    await MailAccount.filter(id=account.id).update(sent_folder=folder)
                await connection.append(folder, raw, flags=r"\Seen", date=date)
            finally:
                await connection.logout()
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the mail went out: never resend it for this
            logger.warning(
                "mailbox %s: the sent email was not filed in its Sent folder: %s: %s",
                account.id,
                type(err).__name__,
                err,
            )


async def _fail(email: EmailMessage, error: str, cause: Exception | None = None) -> NoReturn:
    """Mark the email failed with `error` and end its outbox row (PermanentFailure)."""
    await EmailMessage.filter(id=email.id).update(status=FAILED, error=error[:500])
    logger.warning("email %s not sent: %s", email.id, error)
    raise outbox.PermanentFailure(error) from cause


def register_mail_out(
    worker: OutboxWorker, box: SecretBox, clock: Clock, *, timeout: float = 30.0
) -> MailOutSender:
    """Send outbox rows of kind "mail_out" (users' mailboxes)."""
    sender = MailOutSender(box, clock, timeout=timeout)
    worker.register(KIND, sender, on_give_up=_given_up)
    return sender


async def _given_up(payload: dict[str, Any], error: str) -> None:
    """The outbox stopped retrying (4xx or no connection every time): the email failed."""
    await EmailMessage.filter(id=payload.get("email_id"), status=QUEUED).update(
        status=FAILED, error=f"not sent after several attempts: {error}"[:500]
    )
