"""The "test connection" of a mailbox (Settings -> Mail): log in to its IMAP and SMTP
servers, side by side, and say per side what happened in words a user can act on
(models/messaging/mail_probe_result.py): logged in, wrong login or password (the server's
answer quoted), TLS failure, host unreachable, connection refused, no answer in time.

IMAP goes through the CRM's one IMAP client (daemon/mail_imap.py); SMTP through aiosmtplib,
honouring tls (implicit), starttls (required) and none. The password is handed to the libraries
only: never logged, never in a result.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl

import aiosmtplib

from daemon.mail_imap import MailServerError, open_imap
from models.messaging.mail_accounts import ServerEndpoint
from models.messaging.mail_probe_result import ProbeResult, SideResult

logger = logging.getLogger(__name__)


async def probe(
    imap: ServerEndpoint,
    smtp: ServerEndpoint,
    login: str,
    password: str,
    *,
    timeout: float,  # noqa: ASYNC109 (each server's whole dialogue, not one await)
    ssl_context: ssl.SSLContext | None = None,
) -> ProbeResult:
    """Both logins at once. `ssl_context` replaces the system's trust (tests' own servers)."""
    imap_side, smtp_side = await asyncio.gather(
        probe_imap(imap, login, password, timeout=timeout, ssl_context=ssl_context),
        probe_smtp(smtp, login, password, timeout=timeout, ssl_context=ssl_context),
    )
    return ProbeResult(imap=imap_side, smtp=smtp_side)


async def probe_imap(
    endpoint: ServerEndpoint,
    login: str,
    password: str,
    *,
    timeout: float,  # noqa: ASYNC109
    ssl_context: ssl.SSLContext | None = None,
) -> SideResult:
    where = str(endpoint)
    try:
        async with asyncio.timeout(timeout * 2):
            connection = await open_imap(
                endpoint, login, password, timeout=timeout, ssl_context=ssl_context
            )
            await connection.logout()
    except MailServerError as err:
        problem = err.kind
        if problem == "unreachable" and "refused" in err.server_text.lower():
            problem = "refused"
        logger.info("mail probe: IMAP %s: %s", where, problem)
        return SideResult(where, problem, err.server_text)
    except TimeoutError:
        return SideResult(where, "timeout")
    except Exception as err:  # a defect, not the server: logged, and said as such
        logger.exception("mail probe: unexpected IMAP failure")
        return SideResult(where, "protocol", type(err).__name__)
    logger.info("mail probe: IMAP %s: logged in", where)
    return SideResult(where)


async def probe_smtp(
    endpoint: ServerEndpoint,
    login: str,
    password: str,
    *,
    timeout: float,  # noqa: ASYNC109
    ssl_context: ssl.SSLContext | None = None,
) -> SideResult:
    where = str(endpoint)
    context = ssl_context or ssl.create_default_context()
    client = aiosmtplib.SMTP(
        hostname=endpoint.host,
        port=endpoint.port,
        timeout=timeout,
        use_tls=endpoint.security == "tls",
        start_tls=endpoint.security == "starttls",
        tls_context=context if endpoint.security != "none" else None,
    )
    try:
        async with asyncio.timeout(timeout * 2):
            await client.connect()
            try:
                await client.login(login, password)
            finally:
                await _quit_quietly(client)
    except Exception as err:
        problem, text = _classify_smtp(err)
        logger.info("mail probe: SMTP %s: %s", where, problem)
        return SideResult(where, problem, text)
    logger.info("mail probe: SMTP %s: logged in", where)
    return SideResult(where)


async def _quit_quietly(client: aiosmtplib.SMTP) -> None:
    if not client.is_connected:
        return
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


def _reply(err: aiosmtplib.SMTPResponseException) -> str:
    return f"{err.code} {err.message}".strip()


def _classify_smtp(err: BaseException) -> tuple[str, str]:
    """(problem, the server's or the network's words) for what aiosmtplib raised."""
    if isinstance(err, TimeoutError | aiosmtplib.SMTPTimeoutError):
        return "timeout", ""
    if isinstance(err, aiosmtplib.SMTPAuthenticationError):
        return "auth", _reply(err)
    cause = err.__cause__ or err.__context__
    for candidate in (err, cause):
        if isinstance(candidate, ssl.SSLCertVerificationError):
            return "tls", candidate.verify_message or candidate.reason or str(candidate)
        if isinstance(candidate, ssl.SSLError):
            return "tls", candidate.reason or str(candidate)
        if isinstance(candidate, ConnectionRefusedError):
            return "refused", ""
        if isinstance(candidate, socket.gaierror):
            return "unreachable", candidate.strerror or str(candidate)
    if isinstance(err, aiosmtplib.SMTPConnectError):
        return "unreachable", str(err)
    if isinstance(err, aiosmtplib.SMTPResponseException):
        if err.code in (530, 534, 535, 454) and "auth" in err.message.lower():
            return "auth", _reply(err)
        return "protocol", _reply(err)
    if isinstance(err, aiosmtplib.SMTPServerDisconnected):
        return "protocol", str(err) or "the server closed the connection"
    if isinstance(err, aiosmtplib.SMTPException):
        text = str(err)
        return ("tls" if "STARTTLS" in text else "protocol"), text
    if isinstance(err, OSError):
        return "unreachable", err.strerror or str(err)
    logger.exception("mail probe: unexpected SMTP failure")
    return "protocol", type(err).__name__
