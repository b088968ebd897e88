"""The one IMAP client of the CRM: aioimaplib behind a small typed surface.

Everything the mail code asks of a server goes through `open_imap` and `ImapConnection`:
connecting with implicit TLS, STARTTLS (which aioimaplib lacks: the transport is upgraded here)
or none, LOGIN, folders, SELECT, UID SEARCH/FETCH, IDLE and APPEND. Failures leave as one
`MailServerError` whose `kind` says what went wrong in terms a user can act on and whose
`server_text` keeps the server's own words; the password never appears in either.
Folder names are given and returned as text; on the wire they travel in IMAP's modified UTF-7.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Protocol

import aioimaplib  # type: ignore[import-untyped]  # ships no type information

from daemon.mail_imap_text import (
    FolderStatus,
    decode_folder,
    encode_folder,
    folder_status,
    parse_fetch,
    parse_list,
    uid_set,
)

logger = logging.getLogger(__name__)

ERROR_KINDS = ("auth", "tls", "unreachable", "timeout", "protocol")
_PLAIN_WORDS = {
    "auth": "the server refused the login",
    "tls": "the secure connection failed",
    "unreachable": "the server cannot be reached",
    "timeout": "the server did not answer in time",
    "protocol": "the server gave an unexpected answer",
}
# Names under which servers without SPECIAL-USE keep sent mail, most common first.
SENT_NAMES = (
    "Sent",
    "Sent Items",
    "Sent Messages",
    "Sent Mail",
    "INBOX/Sent",
    "INBOX.Sent",
    "[Gmail]/Sent Mail",
    "Enviados",
    "Elementos enviados",
    "Отправленные",
)


class MailServerError(Exception):
    """A mail server could not be used; `kind` is one of ERROR_KINDS, `server_text` its words."""

    def __init__(self, kind: str, server_text: str) -> None:
        assert kind in ERROR_KINDS, kind
        self.kind = kind
        self.server_text = server_text.strip()[:300]
        super().__init__(f"{_PLAIN_WORDS[kind]}: {self.server_text}")


class Endpoint(Protocol):
    """Where a server is (models.messaging.mail_accounts.ServerEndpoint is one)."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def security(self) -> str: ...  # tls | starttls | none


class ImapConnection:
    """A logged-in IMAP session. `commands` counts the commands sent (LOGIN included)."""

    def __init__(self, client: aioimaplib.IMAP4, timeout: float, lost: asyncio.Event) -> None:
        self._client = client
        self._timeout = timeout
        self._lost = lost
        self.capabilities: frozenset[str] = frozenset()
        self.commands: Counter[str] = Counter()
        self.selected: str | None = None

    @property
    def command_count(self) -> int:
        return sum(self.commands.values())

    @property
    def has_idle(self) -> bool:
        return "IDLE" in self.capabilities

    # ---- the calls -----------------------------------------------------------------------
    async def _run(self, name: str, coro: Awaitable[aioimaplib.Response]) -> aioimaplib.Response:
        """Run one aioimaplib call: a lost connection, a timeout or a refusal becomes a
        MailServerError; a NO/BAD answer is returned as such only to callers that check it."""
        self.commands[name] += 1
        raise_if_cancelling()
        if self._lost.is_set():
            _close_quietly(coro)
            raise MailServerError("unreachable", "the server closed the connection")
        command = asyncio.ensure_future(coro)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _pending = await asyncio.wait(
                {command, lost}, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            command.cancel()
            raise
        finally:
            lost.cancel()
        if command not in done:
            command.cancel()
            raise MailServerError("unreachable", "the server closed the connection")
        try:
            response: aioimaplib.Response = command.result()
        except (TimeoutError, aioimaplib.CommandTimeout) as err:
            self._abandon()
            raise MailServerError("timeout", f"no answer to {name}") from err
        except aioimaplib.AioImapException as err:
            self._abandon()
            raise MailServerError("protocol", str(err) or name) from err
        except ValueError as err:  # an argument aioimaplib refuses to put on the wire
            raise MailServerError("protocol", str(err)) from err
        return response

    async def _ok(self, name: str, coro: Awaitable[aioimaplib.Response]) -> aioimaplib.Response:
        response = await self._run(name, coro)
        if response.result != "OK":
            raise MailServerError("protocol", f"{name}: {_text(response)}")
        return response

    async def list_folders(self) -> list[tuple[str, frozenset[str]]]:
        """Every folder as (name, flags), e.g. ("Sent", {"\\HasNoChildren", "\\Sent"})."""
        response = await self._ok("LIST", self._client.list('""', '"*"'))
        return [(decode_folder(name), flags) for name, flags in parse_list(response.lines)]

    async def find_sent_folder(self) -> str | None:
        """The folder the server marks \\Sent (SPECIAL-USE), else one with a common name."""
        folders = await self.list_folders()
        for name, flags in folders:
            if "\\sent" in {flag.lower() for flag in flags}:
                return name
        names = {name.lower(): name for name, flags in folders if "\\noselect" not in flags}
        for candidate in SENT_NAMES:
            if candidate.lower() in names:
                return names[candidate.lower()]
        return None

    async def select(self, folder: str) -> FolderStatus:
        response = await self._run("SELECT", self._client.select(_quote(encode_folder(folder))))
        if response.result != "OK":
            self.selected = None
            raise MailServerError("protocol", f"SELECT {folder}: {_text(response)}")
        self.selected = folder
        return folder_status(response.lines)

    async def uid_search(self, *criteria: str) -> list[int]:
        """The UIDs matching `criteria` (e.g. "SINCE", "01-Dec-2026" or "UID", "10:*"), sorted."""
        response = await self._ok("UID SEARCH", self._client.uid_search(*criteria, charset=None))
        uids: set[int] = set()
        for line in response.lines[:-1]:
            if isinstance(line, bytes | bytearray):
                uids.update(int(word) for word in line.split() if word.isdigit())
        return sorted(uids)

    async def fetch_sizes(self, uids: Iterable[int]) -> dict[int, int]:
        """UID -> RFC822.SIZE, for the UIDs that still exist."""
        response = await self._ok(
            "UID FETCH", self._client.uid("fetch", uid_set(uids), "(RFC822.SIZE)")
        )
        return {item.uid: item.size for item in parse_fetch(response.lines) if item.size >= 0}

    async def fetch_messages(self, uids: Iterable[int]) -> list[tuple[int, bytes]]:
        """(UID, raw message) for the UIDs that still exist, in UID order; never sets \\Seen."""
        response = await self._ok(
            "UID FETCH", self._client.uid("fetch", uid_set(uids), "(BODY.PEEK[])")
        )
        items = [(item.uid, item.body) for item in parse_fetch(response.lines) if item.body]
        return sorted(items, key=lambda pair: pair[0])

    async def append(
        self,
        folder: str,
        raw: bytes,
        flags: str = r"\Seen",
        date: datetime | None = None,
    ) -> None:
        """Store a message in `folder` (e.g. a sent message in the sent folder)."""
        await self._ok(
            "APPEND",
            self._client.append(raw, _quote(encode_folder(folder)), flags or None, date),
        )

    async def wait_for_news(
        self, seconds: float, *, on_idle: Callable[[], None] | None = None
    ) -> bool:
        """IDLE on the selected folder until the server announces new mail (True) or `seconds`
        pass (False); the IDLE is ended either way, leaving the connection ready for commands.
        `on_idle` is called once the server has accepted the IDLE."""
        if not self.has_idle:
            raise MailServerError("protocol", "the server does not support IDLE")
        self.commands["IDLE"] += 1
        raise_if_cancelling()
        try:
            idle = await asyncio.wait_for(self._client.idle_start(timeout=seconds), self._timeout)
        except (TimeoutError, aioimaplib.AioImapException) as err:
            self._abandon()
            raise MailServerError("timeout", "no answer to IDLE") from err
        news = False
        if on_idle is not None:
            on_idle()
        try:
            while not news:
                lost = asyncio.ensure_future(self._lost.wait())
                push = asyncio.ensure_future(self._client.wait_server_push(seconds + 5))
                done, _pending = await asyncio.wait(
                    {lost, push}, return_when=asyncio.FIRST_COMPLETED
                )
                lost.cancel()
                if push not in done:
                    push.cancel()
                    raise MailServerError("unreachable", "the server closed the connection")
                lines = push.result()
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                news = any(
                    line.endswith((b" EXISTS", b" RECENT"))
                    for line in lines
                    if isinstance(line, bytes | bytearray)
                )
        except TimeoutError as err:
            self._abandon()
            raise MailServerError("timeout", "no answer during IDLE") from err
        except BaseException:
            self._abandon()  # cancelled or lost mid-IDLE: the session cannot be reused
            raise
        self._client.idle_done()
        try:
            await asyncio.wait_for(idle, self._timeout)
        except TimeoutError as err:
            self._abandon()
            raise MailServerError("timeout", "no answer to DONE") from err
        return news

    async def logout(self) -> None:
        """Say goodbye and close; never raises (the session is over either way)."""
        if not self._lost.is_set():
            try:
                self.commands["LOGOUT"] += 1
                await asyncio.wait_for(self._client.logout(), min(self._timeout, 5))
            except (TimeoutError, aioimaplib.AioImapException, OSError):
                pass
            except asyncio.CancelledError:
                self._abandon()
                raise
        self._abandon()

    def abort(self) -> None:
        """Drop the connection at once (a stop that must not wait for the server)."""
        self._abandon()

    def _abandon(self) -> None:
        """Close the socket without a word (after a timeout the session's state is unknown)."""
        transport = self._client.protocol.transport
        if transport is not None and not transport.is_closing():
            transport.close()
        self._lost.set()


def raise_if_cancelling() -> None:
    """Honour a cancellation that was swallowed on the way: Python 3.11's asyncio.wait_for
    (used by aioimaplib for every command) loses one that lands as the command ends, and a
    task asked to stop would go on to its next command, or into a 25-minute IDLE."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()


def _close_quietly(coro: object) -> None:
    close = getattr(coro, "close", None)
    if close is not None:
        close()


def _text(response: aioimaplib.Response) -> str:
    last = response.lines[-1] if response.lines else b""
    return bytes(last).decode("utf-8", "replace") if last else response.result


def _quote(text: str) -> str:
    return aioimaplib.quoted(text)


# ---- connecting ----------------------------------------------------------------------------
async def open_imap(
    endpoint: Endpoint,
    login: str,
    password: str,
    *,
    timeout: float,  # noqa: ASYNC109 (the whole dialogue's limit per step, not one await's)
    ssl_context: ssl.SSLContext | None = None,
) -> ImapConnection:
    """Connect (tls, starttls or none), log in, and return the session.

    `ssl_context` replaces the default one (the system's certificate authorities, host name
    checked): tests pass one that trusts their own server.
    """
    security = endpoint.security
    if security not in ("tls", "starttls", "none"):
        raise MailServerError("protocol", f"unknown security {security!r}")
    context = ssl_context or ssl.create_default_context()
    lost = asyncio.Event()

    def connection_lost(_exc: Exception | None) -> None:
        lost.set()

    try:
        client = aioimaplib.IMAP4(
            host=endpoint.host,
            port=endpoint.port,
            timeout=timeout,
            conn_lost_cb=connection_lost,
            ssl_context=context if security == "tls" else None,
        )
    except ValueError as err:
        raise MailServerError("unreachable", str(err)) from err
    connection = ImapConnection(client, timeout, lost)
    try:
        await _hello(client, endpoint)
        if security == "starttls":
            await _starttls(connection, client, context, endpoint.host, timeout)
        await _login(connection, client, login, password)
    except BaseException:
        connection._abandon()
        raise
    return connection


async def _hello(client: aioimaplib.IMAP4, endpoint: Endpoint) -> None:
    where = f"{endpoint.host}:{endpoint.port}"
    try:
        await client.wait_hello_from_server()
    except ssl.SSLCertVerificationError as err:
        raise MailServerError("tls", err.verify_message or err.reason or str(err)) from err
    except ssl.SSLError as err:
        raise MailServerError("tls", err.reason or str(err)) from err
    except TimeoutError as err:
        raise MailServerError("timeout", f"no greeting from {where}") from err
    except ConnectionRefusedError as err:
        raise MailServerError("unreachable", f"{where}: connection refused") from err
    except OSError as err:  # name not found, no route to host
        raise MailServerError("unreachable", f"{where}: {err.strerror or err}") from err


async def _starttls(
    connection: ImapConnection,
    client: aioimaplib.IMAP4,
    context: ssl.SSLContext,
    host: str,
    seconds: float,
) -> None:
    protocol = client.protocol
    if "STARTTLS" not in protocol.capabilities:
        raise MailServerError("tls", "the server does not offer STARTTLS")
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    response = await connection._run(
        "STARTTLS", asyncio.wait_for(protocol.execute(command), seconds)
    )
    if response.result != "OK":
        raise MailServerError("tls", _text(response))
    loop = asyncio.get_running_loop()
    try:
        transport = await asyncio.wait_for(
            loop.start_tls(protocol.transport, protocol, context, server_hostname=host), seconds
        )
    except ssl.SSLCertVerificationError as err:
        raise MailServerError("tls", err.verify_message or err.reason or str(err)) from err
    except ssl.SSLError as err:
        raise MailServerError("tls", err.reason or str(err)) from err
    except TimeoutError as err:
        raise MailServerError("timeout", "no answer during the TLS handshake") from err
    except ConnectionError as err:
        raise MailServerError("tls", str(err)) from err
    protocol.transport = transport
    # Capabilities announced before TLS must be forgotten (RFC 3501 6.2.1).
    await connection._run("CAPABILITY", asyncio.wait_for(protocol.capability(), seconds))


async def _login(
    connection: ImapConnection, client: aioimaplib.IMAP4, login: str, password: str
) -> None:
    if not password:
        raise MailServerError("auth", "no password")
    response = await connection._run("LOGIN", client.login(_quote(login), password))
    if response.result != "OK":
        raise MailServerError("auth", _text(response))
    words: set[str] = set()
    for line in response.lines:
        text = bytes(line).decode("ascii", "replace")
        match = re.search(r"\[?CAPABILITY ([^\]]*)\]?", text)
        if match:
            words.update(match.group(1).split())
    if not words:
        await connection._run("CAPABILITY", client.protocol.capability())
        words = set(client.protocol.capabilities)
    connection.capabilities = frozenset(word.upper() for word in words)
