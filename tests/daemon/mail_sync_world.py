"""Mailboxes on the test Dovecot for the sync tests: an account row pointing at a fresh Dovecot
user, messages to deliver, and the settings a sync runs with."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from cryptography.fernet import Fernet

from models.core.secret_box import SecretBox
from models.core.settings import MailSettings, Settings
from models.schema.mail import MailAccount
from models.schema.users import User
from tests.dovecot import Dovecot


def new_box() -> SecretBox:
    return SecretBox(Fernet.generate_key())


def sync_settings(data_dir: Path, **mail: object) -> Settings:
    options: dict[str, object] = {"timeout_seconds": 5}
    options.update(mail)
    return Settings(data_dir=data_dir, mail=MailSettings(**options))


async def new_mailbox(
    dovecot: Dovecot,
    owner: User,
    box: SecretBox,
    *,
    password: str | None = None,
    **fields: object,
) -> tuple[MailAccount, str]:
    """A MailAccount of `owner` on a fresh Dovecot user; returns (account, its login). With
    `password` the account keeps that one instead of the right one."""
    login, right = dovecot.new_user(owner.username)
    values: dict[str, object] = {
        "owner_id": owner.id,
        "address": login,
        "login": login,
        "password_encrypted": box.seal(right if password is None else password),
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": "none",
        "smtp_host": dovecot.host,
        "smtp_port": 25,
        "smtp_security": "none",
        "first_sync_days": 30,
    }
    values.update(fields)
    return await MailAccount.create(**values), login


def message(
    subject: str,
    *,
    sender: str = "Carmen Ruiz <carmen@cliente.test>",
    to: str = "luis@mail.test",
    body: str = "Hola, ¿podéis llamarme?",
    sent: datetime | None = None,
    padding: int = 0,
) -> bytes:
    """A small plain-text message with its own Message-ID (built from the subject)."""
    key = "".join(c for c in subject.lower() if c.isalnum()) or "empty"
    date = format_datetime(sent or datetime.now(UTC))
    text = body + ("\n" + "x" * 76) * (padding // 77)
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n"
        f"Message-ID: <{key}@cliente.test>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{text}\r\n"
    ).encode()
