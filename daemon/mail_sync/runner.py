"""Keeping every enabled mailbox in sync while the daemon runs.

Each mailbox has a supervised task `mail-sync-<id>`: it logs in, syncs, and where the server
has IDLE it waits on INBOX for new mail (the IDLE re-issued every 25 minutes) and syncs again
on the same session. A server without IDLE is polled every [mail] poll_minutes by a scheduler
job `mail-poll-<id>` after the first sync. A server that cannot be used is retried with
backoff and its words are kept on the mailbox (last_error); it never holds up the others.
A `MailAccountsChanged` event (a mailbox added, edited, shared or removed) restarts, starts or
stops the mailbox it names (all of them when it names none). Mailboxes added or removed by
another process (`centralita mail add` while the product runs) are picked up by a scheduler job
every PICK_UP_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import cast

from daemon.mail_imap import ImapConnection, MailServerError, raise_if_cancelling
from daemon.mail_sync.account import (
    SyncTools,
    connect,
    note_failure,
    note_success,
    sync_account_once,
    sync_connected,
)
from daemon.scheduler import Scheduler
from daemon.supervisor import Supervisor
from models.core.clock import Clock
from models.core.events import MailAccountsChanged
from models.core.hub import Hub, Subscription
from models.core.secret_box import SecretBox
from models.core.settings import Settings
from models.schema.mail import MailAccount

logger = logging.getLogger(__name__)

IDLE_SECONDS = 25 * 60  # servers may end an IDLE after 30 minutes (RFC 2177)
RETRY_FIRST = 5.0
RETRY_MOST = 600.0
PICK_UP_SECONDS = 60.0
PICK_UP_JOB = "mail-accounts"


class MailSyncRunner:
    """Owns the sync tasks and poll jobs of all mailboxes. `cycles` and `failures` count each
    mailbox's good syncs and failed attempts (`wait_until` waits on them)."""

    def __init__(
        self,
        settings: Settings,
        box: SecretBox,
        clock: Clock,
        hub: Hub,
        supervisor: Supervisor,
        scheduler: Scheduler,
        *,
        files_dir: Path | None = None,
        idle_seconds: float = IDLE_SECONDS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        files = files_dir or Path(settings.data_dir) / "mail"
        self._tools = SyncTools(settings, box, clock, hub, files, ssl_context)
        self._hub = hub
        self._supervisor = supervisor
        self._scheduler = scheduler
        self._idle_seconds = idle_seconds
        self._retry_most = min(RETRY_MOST, settings.mail.poll_minutes * 60)
        self._running: set[int] = set()
        self._subscription: Subscription | None = None
        self._changes = asyncio.Lock()
        self._progress = asyncio.Condition()
        self.cycles: Counter[int] = Counter()  # good syncs per mailbox
        self.failures: Counter[int] = Counter()  # failed attempts per mailbox
        self._sessions: dict[int, ImapConnection] = {}  # each mailbox's open session
        self._idling: dict[int, asyncio.Event] = {}  # set while the server holds our IDLE

    @property
    def accounts(self) -> list[int]:
        """The mailboxes kept in sync now."""
        return sorted(self._running)

    # ---- life ----------------------------------------------------------------------------
    async def start(self) -> None:
        self._tools.files_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._subscription = self._hub.subscribe("mail-sync", self._on_change, MailAccountsChanged)
        await self.reconcile(None)
        self._scheduler.every(PICK_UP_JOB, PICK_UP_SECONDS, self.pick_up)

    async def stop(self) -> None:
        self._scheduler.remove(PICK_UP_JOB)
        if self._subscription is not None:
            await self._hub.unsubscribe(self._subscription)
            self._subscription = None
        for account_id in sorted(self._running):
            await self._stop_account(account_id)

    async def _on_change(self, event: MailAccountsChanged) -> None:
        await self.reconcile(event.account_id)

    async def reconcile(self, account_id: int | None) -> None:
        """(Re)start the named mailbox if it is enabled, stop it otherwise; None: all."""
        async with self._changes:
            if account_id is None:
                enabled = await MailAccount.filter(enabled=True).values_list("id", flat=True)
                wanted: set[int] = {cast(int, value) for value in enabled}
                names = sorted(self._running | wanted)
            else:
                account = await MailAccount.get_or_none(id=account_id)
                wanted = {account_id} if account is not None and account.enabled else set()
                names = [account_id]
            for name in names:
                if name in self._running:
                    await self._stop_account(name)
                if name in wanted:
                    self._start_account(name)

    async def pick_up(self) -> None:
        """Start the enabled mailboxes not yet in sync and stop those gone or disabled, leaving
        the running ones alone (another process, the command line, changed the table)."""
        async with self._changes:
            enabled = await MailAccount.filter(enabled=True).values_list("id", flat=True)
            wanted: set[int] = {cast(int, value) for value in enabled}
            for gone in sorted(self._running - wanted):
                await self._stop_account(gone)
            for new in sorted(wanted - self._running):
                self._start_account(new)

    def _start_account(self, account_id: int) -> None:
        self._running.add(account_id)
        self._supervisor.start(_task_name(account_id), lambda: self._watch(account_id))
        logger.info("mailbox %s: sync started", account_id)

    async def _stop_account(self, account_id: int) -> None:
        self._scheduler.remove(_poll_name(account_id))
        session = self._sessions.pop(account_id, None)
        if session is not None:
            session.abort()  # whatever it awaits from the server ends now
        await self._supervisor.stop_task(_task_name(account_id))
        self._running.discard(account_id)
        self._idle_flag(account_id).clear()

    # ---- one mailbox ---------------------------------------------------------------------
    async def _watch(self, account_id: int) -> None:
        """Sync, then IDLE and sync on news, until stopped; or hand over to the poll job."""
        delay = RETRY_FIRST
        while True:
            raise_if_cancelling()
            account = await MailAccount.get_or_none(id=account_id)
            if account is None or not account.enabled:
                return
            try:
                conn = await connect(account, self._tools)
                self._sessions[account_id] = conn
                try:
                    await self._cycle(conn, account)
                    delay = RETRY_FIRST
                    if not conn.has_idle:
                        self._poll_later(account_id)
                        return
                    idling = self._idle_flag(account_id)
                    while True:
                        await conn.wait_for_news(self._idle_seconds, on_idle=idling.set)
                        idling.clear()
                        raise_if_cancelling()
                        await self._cycle(conn, account)
                finally:
                    self._idle_flag(account_id).clear()
                    self._sessions.pop(account_id, None)
                    await conn.logout()
            except MailServerError as err:
                raise_if_cancelling()
                logger.warning(
                    "mailbox %s (%s): %s; retrying in %.0f s",
                    account_id,
                    account.address,
                    err,
                    delay,
                )
                await note_failure(account, err)
                await self._count(self.failures, account_id)
            await asyncio.sleep(delay)  # backoff before the next attempt
            delay = min(delay * 2, self._retry_most)

    async def _cycle(self, conn: ImapConnection, account: MailAccount) -> None:
        report = await sync_connected(conn, account, self._tools)
        await note_success(account, self._tools, conn.has_idle)
        if report.fetched or report.skipped:
            logger.info(
                "mailbox %s: %s fetched, %s matched, %s new leads, %s skipped",
                account.id,
                report.fetched,
                report.matched,
                report.leads_created,
                report.skipped,
            )
        await self._count(self.cycles, account.id)

    def _poll_later(self, account_id: int) -> None:
        async def poll() -> None:
            try:
                await sync_account_once(
                    account_id,
                    settings=self._tools.settings,
                    box=self._tools.box,
                    clock=self._tools.clock,
                    hub=self._tools.hub,
                    files_dir=self._tools.files_dir,
                    ssl_context=self._tools.ssl_context,
                )
            except MailServerError:
                return  # logged and kept on the mailbox by sync_account_once
            except LookupError:
                self._scheduler.remove(_poll_name(account_id))
                return
            await self._count(self.cycles, account_id)

        name = _poll_name(account_id)
        self._scheduler.remove(name)
        self._scheduler.every(name, self._tools.settings.mail.poll_minutes * 60, poll)

    async def _count(self, counter: Counter[int], account_id: int) -> None:
        async with self._progress:
            counter[account_id] += 1
            self._progress.notify_all()

    def _idle_flag(self, account_id: int) -> asyncio.Event:
        return self._idling.setdefault(account_id, asyncio.Event())

    async def wait_idling(self, account_id: int) -> None:
        """Return once the server holds an IDLE of mailbox `account_id` (new mail now reaches
        us at once)."""
        await self._idle_flag(account_id).wait()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Return once `predicate()` holds, looked at after every sync and failed attempt
        (e.g. `lambda: runner.cycles[7] >= 2`); the caller bounds the wait."""
        async with self._progress:
            await self._progress.wait_for(predicate)


def _task_name(account_id: int) -> str:
    return f"mail-sync-{account_id}"


def _poll_name(account_id: int) -> str:
    return f"mail-poll-{account_id}"
