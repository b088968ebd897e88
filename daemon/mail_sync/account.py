"""One mailbox brought up to date: log in, sync the sent folder, then INBOX.

INBOX is synced last so that it stays selected: the runner's IDLE follows on the same session.
The outcome is kept on the account: `last_sync_at` and an empty `last_error` after a good
sync; the server's words (never the password) in `last_error` after a failed one.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from daemon.mail_imap import ImapConnection, MailServerError, open_imap
from daemon.mail_sync.folder import FolderCounts, FolderLimits, sync_folder
from models.core.clock import Clock
from models.core.hub import Hub
from models.core.secret_box import SecretBox, SecretUnreadable
from models.core.settings import Settings
from models.messaging.mail_accounts import excluded_patterns, imap_endpoint, password_of
from models.schema.mail import MailAccount, MailFolderState

logger = logging.getLogger(__name__)

INBOX = "INBOX"
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class SyncReport:
    """What one sync of a mailbox did. `skipped`: too big, unreadable or excluded messages."""

    fetched: int
    matched: int
    leads_created: int
    skipped: int
    folders: list[str] = field(default_factory=list)
    stored: int = 0
    imap_commands: int = 0


@dataclass(frozen=True)
class SyncTools:
    """What every sync of this process shares."""

    settings: Settings
    box: SecretBox
    clock: Clock
    hub: Hub | None
    files_dir: Path
    ssl_context: ssl.SSLContext | None = None  # None: the system's authorities (tests: theirs)


async def connect(account: MailAccount, tools: SyncTools) -> ImapConnection:
    """A logged-in session to the account's IMAP server (MailServerError when not possible)."""
    try:
        password = password_of(account, tools.box)
    except SecretUnreadable as err:
        raise MailServerError(
            "auth", "the stored password cannot be read (was the encryption key changed?)"
        ) from err
    return await open_imap(
        imap_endpoint(account),
        account.login or account.address,
        password,
        timeout=tools.settings.mail.timeout_seconds,
        ssl_context=tools.ssl_context,
    )


async def sync_connected(
    conn: ImapConnection, account: MailAccount, tools: SyncTools
) -> SyncReport:
    """Sync the sent folder and INBOX over `conn` (INBOX stays selected)."""
    mail = tools.settings.mail
    limits = FolderLimits(
        clock=tools.clock,
        hub=tools.hub,
        files_dir=tools.files_dir,
        max_message_bytes=int(mail.max_message_mb * MEGABYTE),
        max_attachment_bytes=int(mail.max_attachment_mb * MEGABYTE),
        patterns=await excluded_patterns(),
    )
    counts = FolderCounts()
    folders: list[str] = []
    sent = await _sent_folder(conn, account)
    if sent is not None:
        state = await _state(account, sent, "sent")
        try:
            await sync_folder(conn, account, state, limits, counts)
            folders.append(sent)
        except MailServerError as err:
            if err.kind != "protocol" or conn.selected == sent:
                raise
            # The folder is gone or renamed: found again at the next sync.
            logger.warning("mailbox %s: sent folder %r unusable: %s", account.id, sent, err)
            await MailAccount.filter(id=account.id).update(sent_folder="")
            account.sent_folder = ""
    await sync_folder(conn, account, await _state(account, INBOX, "inbox"), limits, counts)
    folders.append(INBOX)
    return SyncReport(
        fetched=counts.fetched,
        matched=counts.matched,
        leads_created=counts.leads_created,
        skipped=counts.skipped,
        folders=folders,
        stored=counts.stored,
        imap_commands=conn.command_count,
    )


async def _sent_folder(conn: ImapConnection, account: MailAccount) -> str | None:
    if account.sent_folder:
        return account.sent_folder
    found = await conn.find_sent_folder()
    if found is not None and found.upper() != INBOX:
        account.sent_folder = found[:200]
        await MailAccount.filter(id=account.id).update(sent_folder=account.sent_folder)
        return account.sent_folder
    return None


async def _state(account: MailAccount, name: str, role: str) -> MailFolderState:
    state, _created = await MailFolderState.get_or_create(
        account_id=account.id, name=name[:200], defaults={"role": role}
    )
    if state.role != role:
        state.role = role
        await state.save(update_fields=["role"])
    return state


async def note_success(account: MailAccount, tools: SyncTools, idle: bool | None) -> None:
    now = tools.clock.now()
    values: dict[str, object] = {"last_sync_at": now, "last_error": ""}
    if idle is not None:
        values["idle_supported"] = idle
    await MailAccount.filter(id=account.id).update(**values)


async def note_failure(account: MailAccount, err: MailServerError) -> None:
    text = str(err)[:500]
    if account.last_error != text:
        account.last_error = text
        await MailAccount.filter(id=account.id).update(last_error=text)


async def sync_account_once(
    account_id: int,
    *,
    settings: Settings,
    box: SecretBox,
    clock: Clock,
    hub: Hub | None,
    files_dir: Path,
    ssl_context: ssl.SSLContext | None = None,
) -> SyncReport:
    """One sync of a mailbox now (the `mail sync` command, the poll job). Raises
    MailServerError (kept in the account's last_error too) when the server cannot be used;
    LookupError when there is no such mailbox."""
    account = await MailAccount.get_or_none(id=account_id)
    if account is None:
        raise LookupError(f"no mailbox {account_id}")
    tools = SyncTools(settings, box, clock, hub, files_dir, ssl_context)
    try:
        conn = await connect(account, tools)
        try:
            report = await sync_connected(conn, account, tools)
        finally:
            await conn.logout()
    except MailServerError as err:
        logger.warning("mailbox %s (%s): sync failed: %s", account.id, account.address, err)
        await note_failure(account, err)
        raise
    await note_success(account, tools, conn.has_idle)
    return SyncReport(
        fetched=report.fetched,
        matched=report.matched,
        leads_created=report.leads_created,
        skipped=report.skipped,
        folders=report.folders,
        stored=report.stored,
        imap_commands=conn.command_count,
    )
