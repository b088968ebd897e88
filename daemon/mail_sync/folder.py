"""Bringing one folder of a mailbox up to date over an open IMAP session.

Where a folder stands is its MailFolderState: the server's UIDVALIDITY and the last UID
stored. Each message is handed to `record_incoming` in UID order and the last UID moves past
it at once, so a crash neither misses nor repeats one. The first sync of a folder (and the
sync after its UIDVALIDITY changed: the server renumbered it) takes the messages of the last
`first_sync_days` days; until that first pass has finished (`synced_at` empty) it is resumed
the same way. A message over [mail] max_message_mb is not downloaded (record_skipped).
With nothing new, SELECT's UIDNEXT answers alone: no SEARCH, no FETCH.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from daemon.mail_imap import ImapConnection
from models.core.clock import Clock
from models.core.hub import Hub
from models.messaging.mail_inbox import record_incoming, record_skipped
from models.schema.mail import MailAccount, MailFolderState

logger = logging.getLogger(__name__)

SIZES_PER_COMMAND = 500  # UIDs whose sizes one FETCH asks for
BATCH_MESSAGES = 50  # messages one body FETCH brings at most ...
BATCH_BYTES = 8 * 1024 * 1024  # ... and bytes (peak memory stays near one batch)
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


@dataclass(frozen=True)
class FolderLimits:
    """What a sync needs besides the session: the clock, the hub, where attachments go and the
    size caps (bytes)."""

    clock: Clock
    hub: Hub | None
    files_dir: Path
    max_message_bytes: int
    max_attachment_bytes: int
    patterns: list[str] = field(default_factory=list)


@dataclass
class FolderCounts:
    fetched: int = 0
    stored: int = 0
    matched: int = 0
    leads_created: int = 0
    skipped: int = 0


def imap_date(day: date) -> str:
    """A date as IMAP SEARCH wants it: 07-Dec-2026 (month names in English whatever the
    locale)."""
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"


async def sync_folder(
    conn: ImapConnection,
    account: MailAccount,
    state: MailFolderState,
    limits: FolderLimits,
    counts: FolderCounts,
) -> None:
    """Store what is new in `state`'s folder; `counts` grows as messages are handled."""
    status = await conn.select(state.name)
    if state.uidvalidity != status.uidvalidity:
        if state.uidvalidity:
            logger.warning(
                "mailbox %s: %s was renumbered (UIDVALIDITY %s -> %s); syncing its last %s "
                "days again (messages already stored are not doubled)",
                account.id,
                state.name,
                state.uidvalidity,
                status.uidvalidity,
                account.first_sync_days,
            )
        state.uidvalidity = status.uidvalidity
        state.last_uid = 0
        state.synced_at = None
        await state.save(update_fields=["uidvalidity", "last_uid", "synced_at"])
    now = limits.clock.now()
    if state.synced_at is not None:
        if status.uidnext is not None and status.uidnext <= state.last_uid + 1:
            return  # nothing new: SELECT said so
        uids = await conn.uid_search("UID", f"{state.last_uid + 1}:*")
    elif account.first_sync_days <= 0 or status.exists == 0:
        uids = []  # only mail that arrives from now on
    else:
        since = (now - timedelta(days=account.first_sync_days)).date()
        uids = await conn.uid_search("SINCE", imap_date(since))
    new = [uid for uid in uids if uid > state.last_uid]
    for start in range(0, len(new), SIZES_PER_COMMAND):
        await _take(conn, account, state, limits, counts, new[start : start + SIZES_PER_COMMAND])
    if state.synced_at is None:
        # The first pass is complete: from now on only UIDs above the newest count, also when
        # the window held nothing (older mail is never fetched later).
        newest = (status.uidnext - 1) if status.uidnext else (max(uids) if uids else 0)
        await _advance(state, newest)
    state.synced_at = now
    await MailFolderState.filter(id=state.id).update(synced_at=now)


async def _take(
    conn: ImapConnection,
    account: MailAccount,
    state: MailFolderState,
    limits: FolderLimits,
    counts: FolderCounts,
    uids: list[int],
) -> None:
    sizes = await conn.fetch_sizes(uids)
    batch: list[int] = []
    batch_bytes = 0
    for uid in uids:
        size = sizes.get(uid)
        if size is None:
            continue  # expunged meanwhile: nothing to take
        if size > limits.max_message_bytes:
            await _store_batch(conn, account, state, limits, counts, batch)
            batch, batch_bytes = [], 0
            await record_skipped(account, state, uid, "too_big", size, hub=limits.hub)
            counts.skipped += 1
            await _advance(state, uid)
            continue
        if batch and (len(batch) >= BATCH_MESSAGES or batch_bytes + size > BATCH_BYTES):
            await _store_batch(conn, account, state, limits, counts, batch)
            batch, batch_bytes = [], 0
        batch.append(uid)
        batch_bytes += size
    await _store_batch(conn, account, state, limits, counts, batch)
    if uids:
        await _advance(state, uids[-1])  # past the expunged ones too


async def _store_batch(
    conn: ImapConnection,
    account: MailAccount,
    state: MailFolderState,
    limits: FolderLimits,
    counts: FolderCounts,
    uids: list[int],
) -> None:
    if not uids:
        return
    messages = await conn.fetch_messages(uids)
    counts.fetched += len(messages)
    while messages:
        uid, raw = messages.pop(0)  # let each message go as soon as it is stored
        recorded = await record_incoming(
            account,
            state,
            uid,
            raw,
            clock=limits.clock,
            files_dir=limits.files_dir,
            max_attachment_bytes=limits.max_attachment_bytes,
            hub=limits.hub,
            patterns=limits.patterns,
        )
        del raw
        if recorded.email_id is not None and not recorded.skipped:
            counts.stored += 1
        if recorded.skipped in ("broken", "excluded"):
            counts.skipped += 1
        counts.matched += int(recorded.matched)
        counts.leads_created += int(recorded.lead_created)
        await _advance(state, uid)


async def _advance(state: MailFolderState, uid: int) -> None:
    """Move the folder's last UID forward (never back: another sync may be further on)."""
    if uid <= state.last_uid:
        return
    state.last_uid = uid
    await MailFolderState.filter(id=state.id, last_uid__lt=uid).update(last_uid=uid)
