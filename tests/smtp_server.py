"""A local SMTP server (aiosmtpd) on a free loopback port: the edge of the machine for mail.

It keeps every message it accepts and can answer a recipient with a temporary (4xx) or
permanent (5xx) refusal, or ask for a login, so tests see what a real mail server says.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "no text/plain part"
        return part.get_content().replace("\r\n", "\n")  # as sent: CRLF on the wire

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content().replace("\r\n", "\n") if part is not None else ""


@dataclass
class SmtpServer:
    """What the server received, and how it answers (set by the test before sending)."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    # recipient -> the reply to RCPT TO, e.g. "550 5.1.1 No such user" or "451 4.7.1 Later"
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    # how many more times to answer RCPT TO with a temporary refusal, whoever the recipient
    temporary_failures: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # aiosmtpd handler hooks (run in the server's own thread and loop)
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        with self._lock:
            if self.temporary_failures > 0:
                self.temporary_failures -= 1
                return "451 4.7.1 Greylisted, try again later"
            reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            with self._lock:
                self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    async def wait_for(self, count: int) -> list[Received]:
        """The messages received once there are `count` (fails after 15 seconds)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + 15
        while len(self.received) < count:
            if loop.time() > end:
                raise AssertionError(f"the SMTP server received {len(self.received)}/{count}")
            await asyncio.sleep(0.02)
        return list(self.received)


def start_smtp(with_auth: bool = False) -> tuple[SmtpServer, Controller]:
    state = SmtpServer(port=free_port())
    options = {}
    if with_auth:
        options = {"authenticator": state.authenticate, "auth_require_tls": False}
    controller = Controller(state, hostname="127.0.0.1", port=state.port, **options)
    controller.start()
    return state, controller


@pytest.fixture
def smtp():
    """A started SMTP server accepting every message (no login)."""
    state, controller = start_smtp()
    yield state
    controller.stop()


@pytest.fixture
def smtp_with_login():
    """A started SMTP server that asks for a login (over plain text, loopback only)."""
    state, controller = start_smtp(with_auth=True)
    yield state
    controller.stop()
