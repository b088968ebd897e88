"""Users' mail through the outbox (C6, C8): the "mail_out" sender delivers over a real SMTP
server (aiosmtpd) with the mailbox's login, headers encoded on the wire, a reply threaded; a
temporary refusal (451) is retried and then sent, a permanent one (550) ends the email failed
with the server's words; the sent message is filed in the Sent folder of a real Dovecot with
IMAP APPEND, and a failed APPEND neither resends the mail nor fails it. The password is never
logged."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller

from daemon.mail_send import register_mail_out
from daemon.outbox_worker import OutboxWorker
from models.contacts.clients import ClientInput, create_client
from models.core.clock import SystemClock
from models.core.secret_box import SecretBox
from models.messaging.mail_compose import compose
from models.schema.activity import EmailMessage
from models.schema.mail import MailAccount
from models.schema.outbox import OutboxMessage
from tests.smtp_server import SmtpServer, free_port

BOX = SecretBox(b"2" * 43 + b"=")
PASSWORD = "Mb0x-app-pa55-never-logged"
SUBJECT = "Presupuesto ñandú — Привет 🎉"


@dataclass
class RawSmtp(SmtpServer):
    """The shared test server, also keeping the bytes of each message as they arrived."""

    raw: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.raw.append(envelope.original_content)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp():
    state = RawSmtp(port=free_port())
    controller = Controller(
        state,
        hostname="127.0.0.1",
        port=state.port,
        authenticator=state.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield state
    controller.stop()


@pytest.fixture
async def start_worker():
    workers: list[OutboxWorker] = []

    async def start(max_attempts: int = 10) -> OutboxWorker:
        worker = OutboxWorker(
            clock=SystemClock(), poll_interval=0.05, base_backoff=0.05, max_attempts=max_attempts
        )
        register_mail_out(worker, BOX, SystemClock(), timeout=5)
        await worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        await worker.stop()


async def _account(world, smtp_port: int, **more) -> MailAccount:
    values = {
        "owner_id": world.luis.id,
        "address": "luis@acme.test",
        "display_name": "Luis Pérez 📞",
        "login": "luis-login",
        "password_encrypted": BOX.seal(PASSWORD),
        "imap_host": "127.0.0.1",
        "imap_port": free_port(),
        "imap_security": "none",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "server_saves_sent": True,
        "signature": "Luis Pérez\nAcme Telecom",
    }
    values.update(more)
    return await MailAccount.create(**values)


async def _settled(email_id: int, within: float = 15.0) -> tuple[EmailMessage, OutboxMessage]:
    """The email and its outbox row once the outbox is done with it (sent or dead)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        row = await OutboxMessage.get(dedupe_key=f"mail_out:{email_id}")
        if row.status in ("sent", "dead"):
            return await EmailMessage.get(id=email_id), row
        if loop.time() > end:
            raise AssertionError(f"email {email_id}: outbox row still {row.status}")
        await asyncio.sleep(0.03)


def _headers(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]


def _header(head: bytes, name: bytes) -> bytes:
    """One header as on the wire, folded lines included."""
    lines = head.split(b"\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(name + b":"))
    end = start + 1
    while end < len(lines) and lines[end][:1] in (b" ", b"\t"):
        end += 1
    return b"\n".join(lines[start:end])


async def test_a_reply_goes_out_with_encoded_headers_threading_and_the_mailbox_login(
    world, smtp, start_worker, caplog
):
    caplog.set_level(logging.DEBUG)
    account = await _account(world, smtp.port)
    eva = await create_client(world.luis, ClientInput(name="Eva Soto", emails=["eva@example.com"]))
    parent = await EmailMessage.create(
        direction="in",
        message_id="<p1@example.com>",
        references="<r0@example.com>",
        sender="eva@example.com",
        subject=SUBJECT,
        client_id=eva.id,
        account_id=account.id,
        created_at=SystemClock().now(),
    )
    sent = await compose(
        world.luis,
        account.id,
        ["eva@example.com"],
        "",
        "Hola Eva,\nson 300 € — спасибо 🙂",
        reply_to_email_id=parent.id,
        clock=SystemClock(),
    )
    await start_worker()
    stored, row = await _settled(sent.id)
    assert (stored.status, row.status, stored.error) == ("sent", "sent", "")
    assert stored.sent_at is not None
    assert smtp.logins == [("luis-login", PASSWORD)]
    [received] = smtp.received
    assert (received.sender, received.recipients) == ("luis@acme.test", ["eva@example.com"])
    head = _headers(smtp.raw[0])
    assert all(byte < 128 for byte in head)  # every header encoded for the wire
    assert b"=?utf-8?" in _header(head, b"Subject") and b"=?utf-8?" in _header(head, b"From")
    message = email.message_from_bytes(smtp.raw[0], policy=email.policy.default)
    assert message["Subject"] == "Re: " + SUBJECT
    assert message["From"].addresses[0].display_name == "Luis Pérez 📞"
    assert message["From"].addresses[0].addr_spec == "luis@acme.test"
    assert message["To"] == "eva@example.com"
    assert message["Message-ID"] == stored.message_id
    assert message["In-Reply-To"] == "<p1@example.com>"
    assert message["References"] == "<r0@example.com> <p1@example.com>"
    assert message["Date"] is not None
    assert received.text() == "Hola Eva,\nson 300 € — спасибо 🙂\n\n-- \nLuis Pérez\nAcme Telecom\n"
    assert "son 300 € — спасибо 🙂" in received.html()
    assert PASSWORD not in caplog.text


async def test_a_451_is_retried_and_then_sent_once(world, smtp, start_worker):
    account = await _account(world, smtp.port)
    smtp.temporary_failures = 1
    sent = await compose(
        world.luis, account.id, ["eva@example.com"], "Hola", "texto", clock=SystemClock()
    )
    await start_worker()
    stored, row = await _settled(sent.id)
    assert (stored.status, row.status, row.attempts) == ("sent", "sent", 2)
    assert len(smtp.received) == 1


async def test_an_email_given_up_after_its_retries_shows_failed_not_queued(
    world, smtp, start_worker
):
    account = await _account(world, smtp.port)
    smtp.temporary_failures = 5
    sent = await compose(
        world.luis, account.id, ["eva@example.com"], "Hola", "texto", clock=SystemClock()
    )
    await start_worker(max_attempts=2)
    stored, row = await _settled(sent.id)
    assert (row.status, row.attempts) == ("dead", 2)
    assert stored.status == "failed"
    assert "not sent after several attempts" in stored.error and "451" in stored.error
    assert smtp.received == []


async def test_a_550_fails_the_email_with_the_servers_answer(world, smtp, start_worker, caplog):
    caplog.set_level(logging.DEBUG)
    account = await _account(world, smtp.port)
    smtp.rcpt_replies["nadie@example.com"] = "550 5.1.1 <nadie@example.com>: no such user here"
    sent = await compose(
        world.luis, account.id, ["nadie@example.com"], "Hola", "texto", clock=SystemClock()
    )
    await start_worker()
    stored, row = await _settled(sent.id)
    assert (stored.status, row.status, row.attempts) == ("failed", "dead", 1)
    assert "550 5.1.1 <nadie@example.com>: no such user here" in stored.error
    assert smtp.received == []
    assert PASSWORD not in caplog.text


async def test_the_sent_mail_is_appended_to_the_dovecot_sent_folder(
    world, smtp, start_worker, dovecot
):
    login, password = dovecot.new_user("luis")
    account = await _account(
        world,
        smtp.port,
        login=login,
        password_encrypted=BOX.seal(password),
        imap_port=dovecot.port,
        server_saves_sent=False,
    )
    sent = await compose(
        world.luis, account.id, ["eva@example.com"], SUBJECT, "¡Hola!", clock=SystemClock()
    )
    await start_worker()
    stored, _ = await _settled(sent.id)
    assert stored.status == "sent"
    assert (await MailAccount.get(id=account.id)).sent_folder == "Sent"
    sent_dir = dovecot.maildir(login) / ".Sent"
    filed = [p.read_bytes() for sub in ("cur", "new") for p in (sent_dir / sub).glob("*")]
    assert len(filed) == 1
    assert filed[0].replace(b"\r\n", b"\n") == smtp.raw[0].replace(b"\r\n", b"\n")


async def test_a_failed_append_is_logged_and_the_mail_is_not_sent_again(
    world, smtp, start_worker, caplog
):
    caplog.set_level(logging.DEBUG)
    account = await _account(world, smtp.port, server_saves_sent=False)  # nothing on IMAP
    sent = await compose(
        world.luis, account.id, ["eva@example.com"], "Hola", "texto", clock=SystemClock()
    )
    await start_worker()
    stored, row = await _settled(sent.id)
    assert (stored.status, row.status, row.attempts) == ("sent", "sent", 1)
    assert len(smtp.received) == 1
    assert "not filed in its Sent folder" in caplog.text
    assert PASSWORD not in caplog.text
