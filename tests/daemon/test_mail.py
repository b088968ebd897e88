"""Email through the outbox: the worker delivers over real SMTP to a local aiosmtpd server; a
permanent (5xx) refusal ends the message dead with the server's answer, a temporary one (4xx)
or a refused connection is retried, and the SMTP password never reaches a log line."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pydantic import SecretStr

from daemon.mail import register_mail
from daemon.outbox_worker import OutboxWorker
from models.core.clock import SystemClock
from models.core.errors import ValidationFailed
from models.core.settings import MailSettings
from models.messaging import mail, outbox
from models.schema.outbox import OutboxMessage
from tests.smtp_server import free_port, smtp, smtp_with_login  # noqa: F401 (fixtures)

PASSWORD = "Sm7p-pa55-never-logged"


def mail_settings(port: int, **more) -> MailSettings:
    options = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "from_address": "Acme CRM <crm@acme.test>",
        "timeout_seconds": 5,
    }
    options.update(more)
    return MailSettings(**options)


@pytest.fixture
async def start_worker():
    """start(settings, **worker options) -> a started outbox worker sending email."""
    workers: list[OutboxWorker] = []

    async def start(settings: MailSettings, **options) -> OutboxWorker:
        options = {"poll_interval": 0.05, "base_backoff": 0.05, **options}
        worker = OutboxWorker(clock=SystemClock(), **options)
        assert register_mail(worker, settings) is not None
        await worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        await worker.stop()


async def queue(to: str, **more) -> OutboxMessage:
    email = mail.OutgoingEmail(
        to=to,
        subject=more.pop("subject", "Invitación a Acme"),
        text=more.pop("text", "Hola:\n\nhttp://crm.test/invite/abc\n"),
        **more,
    )
    return await mail.queue_email(email, clock=SystemClock())


async def settled(row_id: int, predicate, within: float = 15.0) -> OutboxMessage:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        row = await OutboxMessage.get(id=row_id)
        if predicate(row):
            return row
        if loop.time() > end:
            state = (row.status, row.attempts, row.last_error)
            raise AssertionError(f"message {row_id} is still {state}")
        await asyncio.sleep(0.03)


async def test_a_queued_email_is_delivered_with_text_and_html(db, smtp, start_worker):  # noqa: F811
    row = await queue("eva@example.com", html="<p>Hola</p>")
    await start_worker(mail_settings(smtp.port))
    (received,) = await smtp.wait_for(1)
    assert received.sender == "crm@acme.test"
    assert received.recipients == ["eva@example.com"]
    assert received.message["Subject"] == "Invitación a Acme"
    assert received.message["From"] == "Acme CRM <crm@acme.test>"
    assert received.message["Message-ID"].endswith("@acme.test>")
    assert received.text() == "Hola:\n\nhttp://crm.test/invite/abc\n"
    assert received.html() == "<p>Hola</p>\n"
    row = await settled(row.id, lambda r: r.status == outbox.SENT)
    assert row.attempts == 1
    assert row.result["message_id"] == received.message["Message-ID"]


async def test_permanent_refusal_ends_dead_with_the_servers_answer(db, smtp, start_worker):  # noqa: F811
    smtp.rcpt_replies["nobody@example.com"] = "550 5.1.1 No such user here"
    row = await queue("nobody@example.com")
    await start_worker(mail_settings(smtp.port))
    row = await settled(row.id, lambda r: r.status == outbox.DEAD)
    assert row.attempts == 1, "a permanent refusal is not retried"
    assert "550" in row.last_error and "No such user here" in row.last_error
    assert smtp.received == []


async def test_temporary_refusal_is_retried_until_accepted(db, smtp, start_worker):  # noqa: F811
    smtp.temporary_failures = 2  # greylisting: "451 try again later", twice
    row = await queue("eva@example.com")
    await start_worker(mail_settings(smtp.port))
    row = await settled(row.id, lambda r: r.status == outbox.SENT)
    assert row.attempts == 3
    assert len(await smtp.wait_for(1)) == 1


async def test_refused_connection_is_retried_then_given_up(db, start_worker, caplog):
    caplog.set_level(logging.WARNING)
    row = await queue("eva@example.com")
    await start_worker(mail_settings(free_port()), max_attempts=3)  # nothing listens there
    row = await settled(row.id, lambda r: r.status == outbox.DEAD)
    assert row.attempts == 3
    assert row.last_error.startswith("gave up after 3 attempts")
    assert "SMTPConnectError" in row.last_error
    assert "retry in" in caplog.text


async def test_login_works_and_the_password_is_never_logged(
    db,
    smtp_with_login,  # noqa: F811
    start_worker,
    caplog,
):
    caplog.set_level(logging.DEBUG)
    settings = mail_settings(
        smtp_with_login.port, smtp_username="crm@acme.test", smtp_password=SecretStr(PASSWORD)
    )
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
    smtp_with_login.rcpt_replies["nobody@example.com"] = "550 5.1.1 No such user here"
    sent = await queue("eva@example.com")
    refused = await queue("nobody@example.com")
    await start_worker(settings)
    await settled(sent.id, lambda r: r.status == outbox.SENT)
    refused_row = await settled(refused.id, lambda r: r.status == outbox.DEAD)
    assert ("crm@acme.test", PASSWORD) in smtp_with_login.logins
    assert "email" in caplog.text  # our sender did log (sent, and the refusal)
    assert PASSWORD not in caplog.text
    assert PASSWORD not in refused_row.last_error


async def test_mail_off_registers_nothing_and_bad_addresses_are_refused(db):
    worker = OutboxWorker(clock=SystemClock())
    assert register_mail(worker, MailSettings()) is None
    for address in ["", "eva", "eva@localhost", "a b@example.com", "x@example.com\r\nBcc: y@z.es"]:
        with pytest.raises(ValidationFailed):
            await queue(address)
    with pytest.raises(ValidationFailed):
        await queue("eva@example.com", subject="Hi\r\nBcc: spam@example.com")
    assert await OutboxMessage.filter(kind=mail.KIND).count() == 0
