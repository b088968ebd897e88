"""What the compose pages start from (C6, C8): the mailboxes a user may send from, the card's
addresses, a reply's recipients, subject and quoted text, the recipients of a bulk send.
Who may read (and so answer) an email is models/messaging/mail_view.py's `visible_email`."""

from __future__ import annotations

from dataclasses import dataclass

from models.core.errors import msg
from models.core.sql import is_id
from models.messaging.mail_accounts import accounts_usable_by
from models.messaging.mail_view import visible_email
from models.people.permissions import CLIENTS, LEADS, may_see, require, visible, visible_record
from models.schema.activity import EmailMessage
from models.schema.clients import Client, Email
from models.schema.leads import Lead
from models.schema.mail import MailAccount
from models.schema.users import User

BULK_RIGHT = "sms.bulk"  # "Send bulk SMS and email"


@dataclass(frozen=True)
class Draft:
    """The compose form's starting values."""

    to: str  # addresses, comma-separated
    subject: str
    body: str
    client_id: int | None
    lead_id: int | None
    reply_to_email_id: int | None
    about: str  # the client's or lead's name ("" when none)
    account_id: int | None  # a reply goes out from the mailbox its parent came through


@dataclass(frozen=True)
class Candidate:
    """A selected client as a bulk recipient: its first address ("" when it has none)."""

    client_id: int
    name: str
    address: str


async def sending_mailboxes(user: User) -> list[MailAccount]:
    """The turned-on mailboxes `user` may send from (own and shared)."""
    return [a for a in await accounts_usable_by(user) if a.enabled]


def reply_subject(subject: str) -> str:
    """The subject with "Re: " once, as mail programs do (not "Re: Re: ...")."""
    subject = subject.strip()
    if subject.lower().startswith(("re:", "aw:", "sv:")):
        return subject
    return f"Re: {subject}" if subject else "Re:"


async def _may_see_record(user: User, client_id: int | None, lead_id: int | None) -> bool:
    if client_id is not None:
        client = await Client.get_or_none(id=client_id).only("id", "responsible_id")
        if client is not None and may_see(user, CLIENTS, client.responsible_id):
            return True
    if lead_id is not None:
        lead = await Lead.get_or_none(id=lead_id).only("id", "responsible_id")
        if lead is not None and may_see(user, LEADS, lead.responsible_id):
            return True
    return False


async def _addresses(*, client_id: int | None = None, lead_id: int | None = None) -> str:
    query = Email.filter(client_id=client_id) if client_id else Email.filter(lead_id=lead_id)
    rows = await query.order_by("position", "id")
    return ", ".join(dict.fromkeys(row.address for row in rows))


def _quoted(parent: EmailMessage) -> str:
    when = parent.sent_at or parent.created_at
    header = msg(
        "On %(date)s, %(sender)s wrote:",
        date=when.strftime("%Y-%m-%d %H:%M UTC") if when else "",
        sender=parent.sender,
    )
    lines = parent.body.replace("\r\n", "\n").rstrip("\n").split("\n")
    return "\n\n" + header + "\n" + "\n".join(f"> {line}" if line else ">" for line in lines)


async def draft_for(
    user: User,
    *,
    client_id: int | None = None,
    lead_id: int | None = None,
    reply_to_email_id: int | None = None,
) -> Draft:
    """The form's values: a reply's (to its sender, "Re:", the parent quoted) or a card's (its
    addresses). NotFound for a record or an email `user` may not see."""
    if reply_to_email_id is not None:
        parent = await visible_email(user, reply_to_email_id)
        to = parent.sender if parent.direction == "in" else parent.recipients
        usable = {a.id for a in await sending_mailboxes(user)}
        client = lead = None
        if parent.client_id is not None and await _may_see_record(user, parent.client_id, None):
            client = parent.client_id
        if parent.lead_id is not None and await _may_see_record(user, None, parent.lead_id):
            lead = parent.lead_id
        return Draft(
            to=to,
            subject=reply_subject(parent.subject),
            body=_quoted(parent),
            client_id=client,
            lead_id=lead,
            reply_to_email_id=parent.id,
            about=await name_of(user, client, lead),
            account_id=parent.account_id if parent.account_id in usable else None,
        )
    if client_id is not None:
        found = await visible_record(user, CLIENTS, Client, client_id)
        to = await _addresses(client_id=found.id)
        return Draft(to, "", "", found.id, None, None, found.name, None)
    if lead_id is not None:
        found_lead = await visible_record(user, LEADS, Lead, lead_id)
        to = await _addresses(lead_id=found_lead.id)
        return Draft(to, "", "", None, found_lead.id, None, found_lead.name, None)
    return Draft("", "", "", None, None, None, "", None)


async def name_of(user: User, client_id: int | None, lead_id: int | None) -> str:
    """The client's (else the lead's) name, "" when there is none or `user` may not see it."""
    if client_id is not None and await _may_see_record(user, client_id, None):
        names = await Client.filter(id=client_id).values_list("name", flat=True)
        return str(names[0]) if names else ""
    if lead_id is not None and await _may_see_record(user, None, lead_id):
        names = await Lead.filter(id=lead_id).values_list("name", flat=True)
        return str(names[0]) if names else ""
    return ""


async def bulk_candidates(user: User, client_ids: list[int]) -> list[Candidate]:
    """The selected clients `user` may see, in the order given, each with its first address."""
    require(user, BULK_RIGHT)
    ids = list(dict.fromkeys(i for i in client_ids if is_id(i)))
    if not ids:
        return []
    names = dict(await visible(user, CLIENTS, Client.filter(id__in=ids)).values_list("id", "name"))
    first: dict[int, str] = {}
    emails = await Email.filter(client_id__in=list(names)).order_by("-position", "-id")
    for row in emails:
        if row.client_id is not None:
            first[row.client_id] = row.address  # the last written is the lowest position
    return [Candidate(i, str(names[i]), first.get(i, "")) for i in ids if i in names]
