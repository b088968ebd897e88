"""The outbox sender of kind "email": delivers queued emails over SMTP with aiosmtplib.

SMTP replies say how to treat a failure: 4xx is temporary (greylisting, mailbox busy, server
overloaded) and 5xx permanent (no such user, refused, bad credentials). A temporary reply, a
refused or dropped connection and a timeout are retried by the worker with backoff; a
permanent reply marks the message dead with the server's answer as its error. The password
is handed to aiosmtplib only; neither it nor the message body is ever logged.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import aiosmtplib

from daemon.outbox_worker import OutboxWorker
from models.core.settings import MailSettings
from models.messaging import outbox
from models.messaging.mail import KIND

logger = logging.getLogger(__name__)


def build_message(payload: dict[str, Any], sender: str) -> EmailMessage:
    """The MIME message of a queued email: plain text, with an HTML alternative when given."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(payload["text"])
    if payload.get("html"):
        message.add_alternative(payload["html"], subtype="html")
    return message


def _describe(err: aiosmtplib.SMTPResponseException) -> str:
    return f"SMTP {err.code} {err.message}".strip()


def classify(err: Exception) -> outbox.SendFailed:
    """The outbox's view of an aiosmtplib error: retry later, or give up on this message."""
    if isinstance(err, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in err.recipients]
        text = "; ".join(_describe(refusal) for refusal in err.recipients)  # one per message
        if all(code >= 500 for code in codes):
            return outbox.PermanentFailure(text)
        return outbox.RetryLater(text)
    if isinstance(err, aiosmtplib.SMTPResponseException):
        if err.code >= 500:
            return outbox.PermanentFailure(_describe(err))
        return outbox.RetryLater(_describe(err))
    if isinstance(err, aiosmtplib.SMTPException | OSError):
        # Connection refused, dropped or timed out; STARTTLS not offered; TLS handshake.
        return outbox.RetryLater(f"{type(err).__name__}: {err}")
    raise err


class SmtpSender:
    """Registered on the outbox worker for kind "email"; one SMTP session per message."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    def _options(self) -> dict[str, Any]:
        s = self.settings
        options: dict[str, Any] = {
            "hostname": s.smtp_host,
            "port": s.smtp_port,
            "timeout": s.timeout_seconds,
            "use_tls": s.smtp_security == "tls",
            "start_tls": s.smtp_security == "starttls",
        }
        if s.smtp_username:
            options["username"] = s.smtp_username
            options["password"] = s.smtp_password.get_secret_value()
        return options

    async def __call__(self, payload: dict[str, Any]) -> dict[str, Any]:
        message = build_message(payload, self.settings.sender)
        try:
            refused, reply = await aiosmtplib.send(message, **self._options())
        except Exception as err:
            raise classify(err) from err  # the worker logs it and retries or gives up
        logger.info("email %s sent to %s", message["Message-ID"], payload["to"])
        return {"message_id": message["Message-ID"], "reply": reply}


def register_mail(worker: OutboxWorker, settings: MailSettings) -> SmtpSender | None:
    """Send outbox rows of kind "email" over SMTP; None (nothing registered) when mail is off."""
    if not settings.is_configured:
        logger.info(
            "no [mail] smtp_host: team invitations are not emailed (users' mailboxes still send)"
        )
        return None
    sender = SmtpSender(settings)
    worker.register(KIND, sender)
    logger.info(
        "mail: SMTP %s:%s (%s)", settings.smtp_host, settings.smtp_port, settings.smtp_security
    )
    return sender
