"""Storing what the mail sync fetched (G5, C7, E3): one transaction per message.

A message is matched to a client or a lead by address (a client before a lead, then the most
recent); mail from an unknown sender (and, if the mailbox says so, mail sent to an unknown
address) becomes exactly one lead with source "email", owned by the mailbox's owner. The same
message seen again in the mailbox (our own sent mail in the Sent folder, a message moved) only
moves; the same message in two connected mailboxes is one row per mailbox but one entry on the
timeline. Addresses on the exclusion list are never recorded, and the company's own users never
become leads.

Two syncs storing mail from the same unknown sender at once still make one lead: the lookup and
the lead are written in one transaction that holds the addresses' locks (a transaction-scoped
advisory lock on PostgreSQL; SQLite runs one write transaction at a time).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.contacts import contact_details as details
from models.contacts import timeline_text
from models.contacts.timeline import add_entry
from models.core.clock import Clock
from models.core.events import LeadCreated, MailArrived, MailSkipped
from models.core.hub import Hub
from models.messaging.mail_exclusions import is_excluded
from models.messaging.mail_files import KeptFile, keep_files, remove_files
from models.messaging.mime_read import BrokenMessage, ParsedMail, parse_message
from models.schema.activity import EmailMessage, TimelineEntry
from models.schema.clients import Client, Email
from models.schema.leads import Lead
from models.schema.mail import MailAccount, MailAccountShare, MailAttachment, MailFolderState
from models.schema.users import User

logger = logging.getLogger(__name__)

SOURCE = "email"
NAME_LENGTH = 200


@dataclass(frozen=True)
class Recorded:
    email_id: int | None
    matched: bool
    lead_created: bool
    skipped: str  # "" | "excluded" | "duplicate" | "broken"


@dataclass(frozen=True)
class _Match:
    client_id: int | None = None
    lead_id: int | None = None
    lead_created: bool = False


async def record_incoming(
    account: MailAccount,
    folder: MailFolderState,
    uid: int,
    raw: bytes,
    *,
    clock: Clock,
    files_dir: Path,
    max_attachment_bytes: int,
    hub: Hub | None,
    patterns: list[str],
) -> Recorded:
    """Store one fetched message of `account` (see the module's text)."""
    try:
        mail = parse_message(raw)
    except BrokenMessage as err:
        logger.warning("mailbox %s: %s uid %s unreadable: %s", account.id, folder.name, uid, err)
        await record_skipped(account, folder, uid, "broken", len(raw), hub=hub)
        return Recorded(None, matched=False, lead_created=False, skipped="broken")
    if await _seen_before(account, mail.message_id, folder, uid):
        return await _duplicate(account, mail.message_id)
    own = account.address.strip().lower()
    direction = "out" if folder.role == "sent" or mail.sender[1] == own else "in"
    others = _others(mail, direction, own)
    if others and all(is_excluded(address, patterns) for _, address in others):
        logger.info(
            "mailbox %s: %s uid %s skipped (excluded address)", account.id, folder.name, uid
        )
        return Recorded(None, matched=False, lead_created=False, skipped="excluded")
    others = [(name, address) for name, address in others if not is_excluded(address, patterns)]
    kept = await keep_files(files_dir, account.id, mail.attachments, max_attachment_bytes)
    try:
        async with in_transaction() as conn:
            await _lock(conn, [mail.message_id, *(address for _, address in others)])
            if await _seen_before(account, mail.message_id, folder, uid):
                await remove_files(files_dir, kept)
                return await _duplicate(account, mail.message_id)
            match = await _match(account, direction, others, clock)
            email = await _store(account, folder, uid, mail, direction, match, kept, clock)
            await put_email_on_timeline(email)
    except IntegrityError:  # stored meanwhile by a sync of the same mailbox elsewhere
        await remove_files(files_dir, kept)
        return await _duplicate(account, mail.message_id)
    except BaseException:
        await remove_files(files_dir, kept)
        raise
    matched = match.client_id is not None or match.lead_id is not None
    if hub is not None:
        if match.lead_created and match.lead_id is not None:
            hub.publish(LeadCreated(match.lead_id, SOURCE, account.owner_id))
        if direction == "in" and matched:
            arrived = await _arrived(account, email, mail, match)
            if arrived.user_ids:
                hub.publish(arrived)
    logger.info(
        "mailbox %s: stored email %s (%s, uid %s, client %s, lead %s%s)",
        account.id,
        email.id,
        direction,
        uid,
        match.client_id,
        match.lead_id,
        ", new lead" if match.lead_created else "",
    )
    return Recorded(email.id, matched=matched, lead_created=match.lead_created, skipped="")


async def record_skipped(
    account: MailAccount,
    folder: MailFolderState,
    uid: int,
    reason: str,
    size: int | None,
    *,
    hub: Hub | None,
) -> None:
    """A message not stored (over [mail] max_message_mb, or unreadable): a log line and a
    notice to the mailbox's users; the sync goes on with the next one."""
    logger.warning(
        "mailbox %s (%s): message uid %s in %s not stored: %s (%s bytes)",
        account.id,
        account.address,
        uid,
        folder.name,
        reason,
        size if size is not None else "?",
    )
    if hub is not None:
        users = await mailbox_user_ids(account)
        hub.publish(MailSkipped(account.id, users, folder.name, uid, reason, size))


async def put_email_on_timeline(email: EmailMessage) -> None:
    """The timeline entry of an email (in or out) on its client's or lead's card; once, also
    when the same message was stored from two mailboxes."""
    if email.client_id is None and email.lead_id is None:
        return
    owner = {"client_id": email.client_id} if email.client_id else {"lead_id": email.lead_id}
    copies: list[int] = [email.id]
    if email.message_id:
        same = await EmailMessage.filter(message_id=email.message_id).values_list("id", flat=True)
        copies += [int(str(i)) for i in same]
    if await TimelineEntry.filter(kind="email", ref_id__in=copies, **owner).exists():
        return
    if email.direction == "in":
        key, address = "email_received", email.sender
    else:
        key, address = "email_sent", email.recipients
    await add_entry(
        "email",
        email.sent_at or email.created_at,
        ref_id=email.id,
        user_id=email.user_id,
        detail=timeline_text.detail(
            key, subject=email.subject, address=address[:200], snippet=email.snippet[:200]
        ),
        **owner,
    )


async def mailbox_user_ids(account: MailAccount) -> tuple[int, ...]:
    """Who may use the mailbox: its owner and those it is shared with."""
    shared = await MailAccountShare.filter(account_id=account.id).values_list("user_id", flat=True)
    return tuple(sorted({account.owner_id, *(int(str(u)) for u in shared)}))


# Steps ----------------------------------------------------------------------------------


async def _seen_before(
    account: MailAccount, message_id: str, folder: MailFolderState, uid: int
) -> bool:
    """A message this mailbox has already: it moves to where it was seen now."""
    moved = await EmailMessage.filter(account_id=account.id, message_id=message_id).update(
        folder=folder.name[:200], uid=uid
    )
    return bool(moved)


async def _duplicate(account: MailAccount, message_id: str) -> Recorded:
    row = await EmailMessage.get_or_none(account_id=account.id, message_id=message_id).only(
        "id", "client_id", "lead_id"
    )
    if row is None:
        return Recorded(None, matched=False, lead_created=False, skipped="duplicate")
    matched = row.client_id is not None or row.lead_id is not None
    return Recorded(row.id, matched=matched, lead_created=False, skipped="duplicate")


def _others(mail: ParsedMail, direction: str, own: str) -> list[tuple[str, str]]:
    """The other side's addresses: the sender of mail in, the recipients of mail out."""
    found = [mail.sender] if direction == "in" else [*mail.to, *mail.cc]
    seen: set[str] = set()
    result: list[tuple[str, str]] = []
    for name, address in found:
        if address and address != own and address not in seen:
            seen.add(address)
            result.append((name, address))
    return result


def _lock_key(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


async def _lock(conn: BaseDBAsyncClient, names: list[str]) -> None:
    """Hold the names' locks until the transaction ends (PostgreSQL; SQLite writes one
    transaction at a time anyway). Taken in one order, so two holders never wait on each other."""
    if conn.capabilities.dialect != "postgres":
        return
    for key in sorted({_lock_key(name) for name in names if name}):
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [key])


async def _owner_of(address: str) -> _Match | None:
    """The client (else the lead) this address belongs to: the most recent one."""
    rows = await Email.filter(address=address).values("client_id", "lead_id")
    client_ids = [r["client_id"] for r in rows if r["client_id"] is not None]
    if client_ids:
        client = await Client.filter(id__in=client_ids).order_by("-created_at", "-id").first()
        if client is not None:
            return _Match(client_id=client.id)
    lead_ids = [r["lead_id"] for r in rows if r["lead_id"] is not None]
    if lead_ids:
        lead = await Lead.filter(id__in=lead_ids).order_by("-created_at", "-id").first()
        if lead is not None:
            if lead.converted_client_id is not None:
                return _Match(client_id=lead.converted_client_id)
            return _Match(lead_id=lead.id)
    return None


async def _is_colleague(address: str) -> bool:
    """One of the company's own addresses: a user's, or a connected mailbox's."""
    if await User.filter(email__iexact=address).exists():
        return True
    return await MailAccount.filter(address__iexact=address).exists()


async def _match(
    account: MailAccount, direction: str, others: list[tuple[str, str]], clock: Clock
) -> _Match:
    for _, address in others:
        found = await _owner_of(address)
        if found is not None:
            return found
    wanted = account.leads_from_senders if direction == "in" else account.leads_from_recipients
    if not wanted:
        return _Match()
    for name, address in others:
        if not await _is_colleague(address):
            lead = await _new_lead(account, name, address, clock)
            return _Match(lead_id=lead.id, lead_created=True)
    return _Match()


async def _new_lead(account: MailAccount, name: str, address: str, clock: Clock) -> Lead:
    """The lead an unknown address becomes (E3), named after its display name."""
    shown = (name.strip() or address.partition("@")[0] or address)[:NAME_LENGTH]
    now = clock.now()
    lead = await Lead.create(
        name=shown,
        name_key=details.search_key(shown)[:NAME_LENGTH],
        source=SOURCE,
        responsible_id=account.owner_id,
        created_at=now,
    )
    await Email.create(address=address, position=0, lead_id=lead.id)
    await add_entry(
        "lead",
        now,
        lead_id=lead.id,
        ref_id=lead.id,
        detail=timeline_text.detail("lead_auto", source=SOURCE, number=address),
    )
    logger.info("mailbox %s: lead %s created for a new address", account.id, lead.id)
    return lead


async def _store(
    account: MailAccount,
    folder: MailFolderState,
    uid: int,
    mail: ParsedMail,
    direction: str,
    match: _Match,
    kept: list[KeptFile],
    clock: Clock,
) -> EmailMessage:
    now = clock.now()
    recipients = ", ".join(address for _, address in [*mail.to, *mail.cc])
    email = await EmailMessage.create(
        direction=direction,
        message_id=mail.message_id,
        sender=mail.sender[1][:255],
        recipients=recipients,
        subject=mail.subject[:500],
        body=mail.text,
        body_html=mail.html,
        snippet=mail.snippet[:300],
        user_id=account.owner_id if direction == "out" else None,
        client_id=match.client_id,
        lead_id=match.lead_id,
        account_id=account.id,
        folder=folder.name[:200],
        uid=uid,
        in_reply_to=mail.in_reply_to,
        references=" ".join(mail.references),
        status="received" if direction == "in" else "sent",
        sent_at=mail.date,
        has_attachments=any(not k.attachment.inline for k in kept),
        created_at=now,
    )
    if kept:
        await MailAttachment.bulk_create(
            [
                MailAttachment(
                    email_id=email.id,
                    filename=k.attachment.filename[:255],
                    content_type=k.attachment.content_type[:127],
                    size=len(k.attachment.data),
                    path=k.path,
                    content_id=k.attachment.content_id[:255],
                    skipped=k.skipped,
                )
                for k in kept
            ]
        )
    return email


async def _arrived(
    account: MailAccount, email: EmailMessage, mail: ParsedMail, match: _Match
) -> MailArrived:
    """The notice for this mailbox's users, but those told already through another mailbox
    that stored the same message before."""
    told: set[int] = set()
    others = await MailAccount.filter(
        messages__message_id=email.message_id, messages__id__lt=email.id, id__not=account.id
    ).distinct()
    for other in others:
        told.update(await mailbox_user_ids(other))
    name, address = mail.sender
    return MailArrived(
        email_id=email.id,
        account_id=account.id,
        user_ids=tuple(u for u in await mailbox_user_ids(account) if u not in told),
        client_id=match.client_id,
        lead_id=match.lead_id,
        sender=f"{name} <{address}>" if name else address,
        subject=mail.subject,
        lead_created=match.lead_created,
    )
