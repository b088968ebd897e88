"""The mailbox's "test connection" against real servers: Dovecot (IMAP) and aiosmtpd (SMTP).

What a user reads is checked: logged in, the wrong password with the server's own words, a
refused port, a TLS mode that does not match the port, a host that does not exist.
"""

from __future__ import annotations

import os

import pytest

from daemon.mail_probe import probe
from models.messaging.mail_accounts import ServerEndpoint
from tests.dovecot import dovecot_installed, start_dovecot
from tests.smtp_server import free_port, start_smtp


@pytest.fixture(scope="module")
def dovecot():
    if not dovecot_installed():
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot is missing in CI: install Debian's dovecot-imapd")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    server = start_dovecot()
    server.add_user("luis", "app-pass-1")
    yield server
    server.stop()
    server.cleanup()


@pytest.fixture(scope="module")
def smtp_login():
    state, controller = start_smtp(with_auth=True)
    yield state
    controller.stop()


def here(port: int, security: str) -> ServerEndpoint:
    return ServerEndpoint("127.0.0.1", port, security)


async def test_both_sides_log_in(dovecot, smtp_login):
    result = await probe(
        here(dovecot.tls_port, "tls"),
        here(smtp_login.port, "none"),
        "luis",
        "app-pass-1",
        timeout=5,
        ssl_context=dovecot.ssl_context(),
    )
    assert result.ok
    assert result.imap.message == f"127.0.0.1:{dovecot.tls_port}: logged in"
    assert result.smtp.message == f"127.0.0.1:{smtp_login.port}: logged in"
    assert ("luis", "app-pass-1") in smtp_login.logins
    starttls = await probe(
        here(dovecot.port, "starttls"),
        here(smtp_login.port, "none"),
        "luis",
        "app-pass-1",
        timeout=5,
        ssl_context=dovecot.ssl_context(),
    )
    assert starttls.imap.ok


async def test_wrong_password_quotes_the_server_and_never_the_password(dovecot, smtp_login):
    result = await probe(
        here(dovecot.tls_port, "tls"),
        here(smtp_login.port, "tls"),  # a plain-text port taken for implicit TLS
        "luis",
        "wrong-secret-9",
        timeout=5,
        ssl_context=dovecot.ssl_context(),
    )
    assert not result.ok
    assert result.imap.problem == "auth"
    assert "the login or the password is wrong" in result.imap.message
    assert "Authentication failed" in result.imap.message  # Dovecot's own words
    assert result.smtp.problem == "tls"
    assert "secure connection (TLS) failed" in result.smtp.message
    for text in (result.imap.message, result.smtp.message):
        assert "wrong-secret-9" not in text


async def test_refused_port_and_unknown_host():
    closed = free_port()
    refused = await probe(here(closed, "tls"), here(closed, "starttls"), "a", "b", timeout=5)
    assert (
        refused.imap.message == f"127.0.0.1:{closed}: the connection was refused. Check the port."
    )
    assert refused.smtp.problem == "refused"
    nowhere = ServerEndpoint("mail.nonexistent.invalid", 993, "tls")
    unknown = await probe(nowhere, nowhere, "a", "b", timeout=5)
    assert unknown.imap.problem == unknown.smtp.problem == "unreachable"
    assert (
        "cannot be reached" in unknown.smtp.message
        and "Check the host name" in unknown.smtp.message
    )


async def test_the_words_read_in_spanish():
    closed = free_port()
    result = await probe(here(closed, "tls"), here(closed, "tls"), "a", "b", timeout=5)
    assert result.imap.message.in_language("es") == (
        f"127.0.0.1:{closed}: el servidor rechazó la conexión. Revisa el puerto."
    )
