"""Sending mail from the CRM (C6, C8): one message from a card or a reply, or a bulk send.

A message is written as an `EmailMessage` (direction out, status queued) with its outbox row
of kind "mail_out" and its timeline entry, in one transaction; the daemon's sender
(daemon/mail_send.py) delivers it over the mailbox's SMTP and files it in the Sent folder.
The Message-ID is made here, so that when the sync later fetches the Sent folder it finds
the same (account, message_id) and updates the row instead of adding a second one.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import getaddresses, make_msgid

from tortoise.transactions import in_transaction

from models.core.clock import Clock
from models.core.errors import NotFound, ValidationFailed, msg
from models.core.sql import is_id
from models.messaging import outbox
from models.messaging.mail import check_address
from models.messaging.mail_accounts import usable_account
from models.messaging.mail_drafts import BULK_RIGHT, reply_subject
from models.messaging.mail_inbox import put_email_on_timeline
from models.messaging.mail_view import visible_email
from models.people.permissions import CLIENTS, LEADS, has_right, require, visible_record
from models.schema.activity import EmailMessage
from models.schema.clients import Client
from models.schema.leads import Lead
from models.schema.mail import MailAccount
from models.schema.outbox import OutboxMessage
from models.schema.users import User

logger = logging.getLogger(__name__)

KIND = "mail_out"
QUEUED = "queued"
SENT = "sent"
FAILED = "failed"
MAX_RECIPIENTS = 100  # per message, and per bulk send (C8)
MAX_SUBJECT = 400  # leaves room for "Re: " within the column's 500
MAX_BODY = 200_000
SIGNATURE_SEPARATOR = "-- \n"  # RFC 3676: mail programs hide or grey what follows


@dataclass(frozen=True)
class BulkRecipient:
    """One recipient of a bulk send: the client or lead it is for, and the address used."""

    address: str
    client_id: int | None = None
    lead_id: int | None = None


def dedupe_key(email_id: int) -> str:
    return f"{KIND}:{email_id}"


def sendable_address(text: str, field: str = "to") -> str:
    """One address as it goes on the wire: checked, lower-case, an accented domain in its
    ASCII form (IDNA). A local part with accents needs SMTPUTF8, which the sender does not
    use: it is refused here rather than failing later."""
    try:
        address = check_address(text).lower()
        local, _, domain = address.rpartition("@")
        domain = domain.encode("idna").decode("ascii")
    except (ValidationFailed, UnicodeError):
        raise ValidationFailed(
            {field: msg("“%(address)s” is not an email address", address=text.strip()[:100])}
        ) from None
    if not local.isascii():
        raise ValidationFailed(
            {
                field: msg(
                    "“%(address)s”: the part before the @ cannot have accents or other "
                    "letters outside English",
                    address=text.strip()[:100],
                )
            }
        )
    return f"{local}@{domain}"


def parse_addresses(text: str, field: str = "to") -> list[str]:
    """The addresses typed in a To field: separated by commas or semicolons, "Name <a@b>"
    accepted; each checked (`sendable_address`), repeats dropped. ValidationFailed names the
    field and the address."""
    found: list[str] = []
    for chunk in _split_outside_quotes(text):
        chunk = chunk.strip()
        if not chunk:
            continue
        address = chunk
        if "<" in chunk:  # "Name <address>": the address inside
            pairs = getaddresses([chunk])
            address = pairs[0][1] if len(pairs) == 1 and pairs[0][1] else chunk
        found.append(sendable_address(address, field))
    return list(dict.fromkeys(found))


def _split_outside_quotes(text: str) -> list[str]:
    """`text` cut at commas and semicolons, except inside a quoted display name
    (`"Pérez, Ana" <ana@example.com>` stays whole)."""
    chunks: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char in ",;" and not quoted:
            chunks.append("".join(current))
            current = []
        else:
            current.append(char)
    chunks.append("".join(current))
    return chunks


def with_signature(body: str, signature: str) -> str:
    """The body with the mailbox's signature under the usual "-- " line (none when blank)."""
    signature = signature.replace("\r\n", "\n").strip("\n")
    if not signature.strip():
        return body
    return body.rstrip() + "\n\n" + SIGNATURE_SEPARATOR + signature


def _snippet(body: str) -> str:
    return " ".join(body.split())[:300]


def _check_texts(subject: str, body: str, errors: dict[str, str]) -> tuple[str, str]:
    """The subject stripped, the body with plain line ends; what is wrong goes to `errors`."""
    subject = subject.strip()
    if "\n" in subject or "\r" in subject:
        errors["subject"] = msg("one line only")
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = msg("at most %(n)s characters", n=MAX_SUBJECT)
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if not body.strip():
        errors["body"] = msg("write the message")
    elif len(body) > MAX_BODY:
        errors["body"] = msg("at most %(n)s characters", n=MAX_BODY)
    return subject, body


async def sending_account(actor: User, account_id: int | None) -> MailAccount:
    """The mailbox `actor` sends from: theirs or shared with them, and turned on."""
    if account_id is None or not is_id(account_id):
        raise ValidationFailed({"account_id": msg("choose one of your mailboxes")})
    try:
        account = await usable_account(actor, account_id)
    except NotFound:
        raise ValidationFailed({"account_id": msg("choose one of your mailboxes")}) from None
    if not account.enabled:
        raise ValidationFailed({"account_id": msg("this mailbox is turned off")})
    return account


async def _check_records(actor: User, client_id: int | None, lead_id: int | None) -> None:
    """NotFound, as for a missing one, for a client or lead `actor` may not see."""
    if client_id is not None:
        await visible_record(actor, CLIENTS, Client, client_id)
    if lead_id is not None:
        await visible_record(actor, LEADS, Lead, lead_id)


def _domain_of(account: MailAccount) -> str | None:
    return account.address.rpartition("@")[2] or None


async def _queue(
    actor: User,
    account: MailAccount,
    to: list[str],
    subject: str,
    body: str,
    *,
    client_id: int | None,
    lead_id: int | None,
    parent: EmailMessage | None,
    bulk_ref: str,
    clock: Clock,
) -> EmailMessage:
    """The email row, its outbox row and its timeline entry (inside the caller's transaction)."""
    in_reply_to = references = ""
    if parent is not None and parent.message_id:
        in_reply_to = parent.message_id
        references = " ".join([*parent.references.split(), parent.message_id])
    email = await EmailMessage.create(
        direction="out",
        message_id=make_msgid(domain=_domain_of(account)),
        sender=account.address,
        recipients=", ".join(to),
        subject=subject[:500],
        body=with_signature(body, account.signature),
        snippet=_snippet(body),
        user_id=actor.id,
        client_id=client_id,
        lead_id=lead_id,
        account_id=account.id,
        in_reply_to=in_reply_to,
        references=references,
        status=QUEUED,
        bulk_ref=bulk_ref,
        created_at=clock.now(),
    )
    await outbox.enqueue(
        KIND, {"email_id": email.id}, clock=clock, dedupe_key=dedupe_key(email.id), key_is_new=True
    )
    await put_email_on_timeline(email)
    return email


async def compose(
    actor: User,
    account_id: int,
    to: list[str],
    subject: str,
    body: str,
    *,
    client_id: int | None = None,
    lead_id: int | None = None,
    reply_to_email_id: int | None = None,
    clock: Clock,
) -> EmailMessage:
    """Queue one message from `actor`'s mailbox (C6); a reply threads under its parent.

    Checks everything before writing: a mailbox the actor may use, valid recipients (at most
    MAX_RECIPIENTS), a one-line subject, a body, and a client or lead the actor may see.
    """
    errors: dict[str, str] = {}
    subject, body = _check_texts(subject, body, errors)
    addresses: list[str] = []
    try:
        addresses = parse_addresses(",".join(to))
    except ValidationFailed as err:
        errors.update(err.fields)
    if "to" not in errors and not addresses:
        errors["to"] = msg("add at least one recipient")
    elif len(addresses) > MAX_RECIPIENTS:
        errors["to"] = msg("at most %(n)s recipients per message", n=MAX_RECIPIENTS)
    if errors:
        raise ValidationFailed(errors)
    account = await sending_account(actor, account_id)
    parent = None
    if reply_to_email_id is not None:
        parent = await visible_email(actor, reply_to_email_id)
        if client_id is None and lead_id is None:
            client_id, lead_id = await _visible_parent_records(actor, parent)
        subject = reply_subject(subject or parent.subject)
    await _check_records(actor, client_id, lead_id)
    async with in_transaction():
        email = await _queue(
            actor,
            account,
            addresses,
            subject,
            body,
            client_id=client_id,
            lead_id=lead_id,
            parent=parent,
            bulk_ref="",
            clock=clock,
        )
    logger.info("email %s queued by user %s from mailbox %s", email.id, actor.id, account.id)
    return email


async def _visible_parent_records(
    actor: User, parent: EmailMessage
) -> tuple[int | None, int | None]:
    """The parent's client and lead, each only if `actor` may see it (a reply lands there)."""
    found: list[int | None] = []
    for kind, model, record_id in (
        (CLIENTS, Client, parent.client_id),
        (LEADS, Lead, parent.lead_id),
    ):
        if record_id is None:
            found.append(None)
            continue
        try:
            await visible_record(actor, kind, model, record_id)
            found.append(record_id)
        except NotFound:
            found.append(None)
    return found[0], found[1]


async def compose_bulk(
    actor: User,
    account_id: int,
    recipients: list[BulkRecipient],
    subject: str,
    body: str,
    *,
    clock: Clock,
) -> str:
    """Queue one message per recipient (C8), each with its own Message-ID; returns the bulk
    reference for `bulk_results`. All or nothing: a bad row is named and nothing is queued."""
    require(actor, BULK_RIGHT)
    errors: dict[str, str] = {}
    subject, body = _check_texts(subject, body, errors)
    if errors:
        raise ValidationFailed(errors)
    if not recipients:
        raise ValidationFailed({"recipients": msg("add at least one recipient")})
    if len(recipients) > MAX_RECIPIENTS:
        raise ValidationFailed(
            {
                "recipients": msg(
                    "at most %(n)s recipients per send; there are %(count)s",
                    n=MAX_RECIPIENTS,
                    count=len(recipients),
                )
            }
        )
    rows: dict[str, BulkRecipient] = {}
    for i, rcpt in enumerate(recipients):
        try:
            address = sendable_address(rcpt.address, f"recipient-{i}")
        except ValidationFailed as err:
            errors.update(err.fields)
            continue
        if rcpt.client_id is None and rcpt.lead_id is None:
            errors[f"recipient-{i}"] = msg("a recipient must be a client or a lead")
            continue
        try:
            await _check_records(actor, rcpt.client_id, rcpt.lead_id)
        except NotFound as err:
            errors[f"recipient-{i}"] = err.args[0]
            continue
        rows.setdefault(address, BulkRecipient(address, rcpt.client_id, rcpt.lead_id))
    if errors:
        raise ValidationFailed(errors)
    account = await sending_account(actor, account_id)
    bulk_ref = str(uuid.uuid4())
    async with in_transaction():
        for rcpt in rows.values():
            await _queue(
                actor,
                account,
                [rcpt.address],
                subject,
                body,
                client_id=rcpt.client_id,
                lead_id=rcpt.lead_id,
                parent=None,
                bulk_ref=bulk_ref,
                clock=clock,
            )
    logger.info("bulk email %s: %d queued by user %s", bulk_ref, len(rows), actor.id)
    return bulk_ref


@dataclass(frozen=True)
class BulkResult:
    """Where one recipient's message of a bulk send stands: queued (with the last temporary
    failure while it is retried), sent, or failed with the server's answer."""

    email_id: int
    address: str
    client_id: int | None
    lead_id: int | None
    name: str
    status: str
    error: str
    sent_at: datetime | None


async def bulk_results(actor: User, bulk_ref: str) -> list[BulkResult]:
    """Each recipient of a bulk send; only its sender and users with the bulk right see it."""
    rows = (
        await EmailMessage.filter(bulk_ref=bulk_ref, direction="out").order_by("id")
        if bulk_ref
        else []
    )
    if not rows or (rows[0].user_id != actor.id and not has_right(actor, BULK_RIGHT)):
        raise NotFound(msg("bulk email %(ref)s not found", ref=bulk_ref[:36]))
    keys = [dedupe_key(row.id) for row in rows]
    tried = {
        row.dedupe_key: row
        for row in await OutboxMessage.filter(kind=KIND, dedupe_key__in=keys).only(
            "id", "dedupe_key", "status", "last_error"
        )
    }
    client_ids = {row.client_id for row in rows if row.client_id is not None}
    lead_ids = {row.lead_id for row in rows if row.lead_id is not None}
    clients = dict(await Client.filter(id__in=client_ids).values_list("id", "name"))
    leads = dict(await Lead.filter(id__in=lead_ids).values_list("id", "name"))
    results = []
    for row in rows:
        status, error = row.status, row.error
        attempt = tried.get(dedupe_key(row.id))
        if status == QUEUED and attempt is not None:
            error = error or attempt.last_error
            if attempt.status == outbox.DEAD:
                status = FAILED  # the outbox gave up after its retries
        name = clients.get(row.client_id, "") or leads.get(row.lead_id, "")
        results.append(
            BulkResult(
                row.id,
                row.recipients,
                row.client_id,
                row.lead_id,
                str(name),
                status,
                error,
                row.sent_at,
            )
        )
    return results
