"""Storing fetched mail (models/messaging/mail_inbox.py): matching, leads from new mail,
exclusions, a message seen twice, attachment files, the timeline and the notices."""

from __future__ import annotations

import asyncio
import base64
import os
import stat
from dataclasses import dataclass

import pytest

from models.contacts.clients import ClientInput, create_client
from models.core.events import LeadCreated, MailArrived, MailSkipped
from models.messaging.mail_inbox import record_incoming
from models.sales.leads import LeadInput, create_lead
from models.schema.activity import EmailMessage, TimelineEntry
from models.schema.clients import Email
from models.schema.leads import Lead
from models.schema.mail import MailAccount, MailAccountShare, MailAttachment, MailFolderState

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def message(
    sender: str = "=?UTF-8?Q?Jos=C3=A9_Pe=C3=B1a?= <Jose.Pena@Ejemplo.ES>",
    to: str = "Luis <luis@acme.test>",
    subject: str = "=?UTF-8?Q?Presupuesto_instalaci=C3=B3n?=",
    message_id: str = "<m1@ejemplo.es>",
    body: str = "Buenas tardes, ¿me envían el presupuesto?",
) -> bytes:
    head = (
        f"Message-ID: {message_id}\r\nDate: Tue, 24 Nov 2026 18:05:12 +0100\r\n"
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("utf-8") + body.encode("utf-8") + b"\r\n"


def with_files(big: bytes) -> bytes:
    """A message with an inline image and a PDF named by RFC 2231."""
    return (
        b"Message-ID: <files-1@ejemplo.es>\r\nFrom: Jose <jose.pena@ejemplo.es>\r\n"
        b"To: luis@acme.test\r\nSubject: Fotos\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b'<p>Logo:</p><img src="cid:logo@x">\r\n'
        b"--b1\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n"
        b"Content-Disposition: inline; filename=logo.png\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(PNG) + b"\r\n"
        b"--b1\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment;\r\n"
        b" filename*=utf-8''..%2F..%2Fpresupuesto%20a%C3%B1o.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(big) + b"\r\n--b1--\r\n"
    )


@dataclass
class Boxes:
    luis: MailAccount  # shared with Marta
    marta: MailAccount
    luis_inbox: MailFolderState
    luis_sent: MailFolderState
    marta_inbox: MailFolderState


async def _account(owner, address: str) -> MailAccount:
    return await MailAccount.create(
        owner_id=owner.id,
        address=address,
        login=address,
        imap_host="127.0.0.1",
        imap_port=143,
        smtp_host="127.0.0.1",
        smtp_port=25,
    )


@pytest.fixture
async def boxes(world) -> Boxes:
    luis = await _account(world.luis, "luis@acme.test")
    marta = await _account(world.marta, "marta@acme.test")
    await MailAccountShare.create(account_id=luis.id, user_id=world.marta.id)
    return Boxes(
        luis=luis,
        marta=marta,
        luis_inbox=await MailFolderState.create(account_id=luis.id, name="INBOX"),
        luis_sent=await MailFolderState.create(account_id=luis.id, name="Sent", role="sent"),
        marta_inbox=await MailFolderState.create(account_id=marta.id, name="INBOX"),
    )


@pytest.fixture
async def events(hub):
    seen: list[object] = []

    async def keep(event: object) -> None:
        seen.append(event)

    hub.subscribe("test-mail", keep, MailArrived, MailSkipped, LeadCreated)
    return seen


async def record(account, folder, uid, raw, *, clock, tmp_path, hub=None, cap=10_000, patterns=()):
    return await record_incoming(
        account,
        folder,
        uid,
        raw,
        clock=clock,
        files_dir=tmp_path / "mail",
        max_attachment_bytes=cap,
        hub=hub,
        patterns=list(patterns),
    )


async def test_mail_from_a_client_lands_on_the_clients_timeline_and_is_announced(
    world, boxes, clock, hub, events, tmp_path
):
    client = await create_client(
        world.luis, ClientInput(name="Talleres Peña", emails=["jose.pena@ejemplo.es"])
    )
    # A lead with the same address: the client comes first.
    await create_lead(world.luis, LeadInput(name="José (lead)", emails=["jose.pena@ejemplo.es"]))
    done = await record(
        boxes.luis, boxes.luis_inbox, 7, message(), clock=clock, tmp_path=tmp_path, hub=hub
    )
    assert (done.matched, done.lead_created, done.skipped) == (True, False, "")
    email = await EmailMessage.get(id=done.email_id)
    assert (email.direction, email.client_id, email.lead_id) == ("in", client.id, None)
    assert email.sender == "jose.pena@ejemplo.es"
    assert email.subject == "Presupuesto instalación"
    assert (email.folder, email.uid, email.account_id) == ("INBOX", 7, boxes.luis.id)
    entries = await TimelineEntry.filter(client_id=client.id, kind="email")
    assert [e.summary for e in entries] == [
        "Email received from jose.pena@ejemplo.es: Presupuesto instalación"
    ]
    assert entries[0].ref_id == email.id
    await hub.drain()
    arrived = [e for e in events if isinstance(e, MailArrived)]
    assert len(arrived) == 1
    assert arrived[0].user_ids == tuple(sorted((world.luis.id, world.marta.id)))
    assert arrived[0].client_id == client.id
    assert arrived[0].sender == "José Peña <jose.pena@ejemplo.es>"


async def test_an_unknown_sender_becomes_one_lead_even_when_two_mailboxes_store_it_at_once(
    world, boxes, clock, hub, events, tmp_path
):
    raw = message(sender="Laura Gómez <laura@nuevo.test>", to="luis@acme.test, marta@acme.test")
    first, second = await asyncio.gather(
        record(boxes.luis, boxes.luis_inbox, 1, raw, clock=clock, tmp_path=tmp_path, hub=hub),
        record(boxes.marta, boxes.marta_inbox, 1, raw, clock=clock, tmp_path=tmp_path, hub=hub),
    )
    leads = await Lead.all()
    assert len(leads) == 1
    lead = leads[0]
    assert (lead.name, lead.source) == ("Laura Gómez", "email")
    assert lead.responsible_id in (world.luis.id, world.marta.id)
    assert await Email.filter(address="laura@nuevo.test").values_list("lead_id", flat=True) == [
        lead.id
    ]
    assert sorted([first.lead_created, second.lead_created]) == [False, True]
    # One row per mailbox, both on the lead, one entry on its timeline.
    rows = await EmailMessage.filter(lead_id=lead.id)
    assert sorted(r.account_id for r in rows) == sorted([boxes.luis.id, boxes.marta.id])
    assert await TimelineEntry.filter(lead_id=lead.id, kind="email").count() == 1
    await hub.drain()
    created = [e for e in events if isinstance(e, LeadCreated)]
    assert [(e.lead_id, e.source) for e in created] == [(lead.id, "email")]
    # Luis's mailbox is shared with Marta: each of them is told once, not once per mailbox.
    told = [u for e in events if isinstance(e, MailArrived) for u in e.user_ids]
    assert sorted(told) == sorted([world.luis.id, world.marta.id])


async def test_the_lead_is_named_after_the_address_without_a_display_name(
    world, boxes, clock, tmp_path
):
    raw = message(sender="pedro.ruiz@nuevo.test")
    done = await record(boxes.luis, boxes.luis_inbox, 2, raw, clock=clock, tmp_path=tmp_path)
    lead = await Lead.get(id=(await EmailMessage.get(id=done.email_id)).lead_id)
    assert (lead.name, lead.responsible_id) == ("pedro.ruiz", world.luis.id)


async def test_no_lead_when_the_mailbox_says_no_nor_for_a_colleague(world, boxes, clock, tmp_path):
    boxes.luis.leads_from_senders = False
    await boxes.luis.save()
    done = await record(boxes.luis, boxes.luis_inbox, 3, message(), clock=clock, tmp_path=tmp_path)
    assert (done.matched, done.lead_created, done.skipped) == (False, False, "")
    boxes.marta.leads_from_senders = True
    world.luis.email = "Luis.Perez@Acme.test"
    await world.luis.save()
    colleague = message(sender="Luis <luis.perez@acme.test>", message_id="<c1@acme.test>")
    done = await record(
        boxes.marta, boxes.marta_inbox, 4, colleague, clock=clock, tmp_path=tmp_path
    )
    assert (done.matched, done.lead_created) == (False, False)
    assert await Lead.all().count() == 0
    assert await EmailMessage.all().count() == 2


async def test_mail_sent_to_an_unknown_address_makes_a_lead_only_when_chosen(
    world, boxes, clock, tmp_path
):
    sent = message(
        sender="Luis <luis@acme.test>", to="Carmen Vidal <carmen@nueva.test>", message_id="<s1@x>"
    )
    done = await record(boxes.luis, boxes.luis_sent, 1, sent, clock=clock, tmp_path=tmp_path)
    assert (done.matched, done.lead_created) == (False, False)
    email = await EmailMessage.get(id=done.email_id)
    assert (email.direction, email.user_id) == ("out", world.luis.id)
    boxes.luis.leads_from_recipients = True
    await boxes.luis.save()
    again = message(
        sender="Luis <luis@acme.test>", to="Carmen Vidal <carmen@nueva.test>", message_id="<s2@x>"
    )
    done = await record(boxes.luis, boxes.luis_sent, 2, again, clock=clock, tmp_path=tmp_path)
    assert done.lead_created is True
    lead = await Lead.get()
    assert lead.name == "Carmen Vidal"
    entry = await TimelineEntry.get(lead_id=lead.id, kind="email")
    assert entry.summary == "Email sent to carmen@nueva.test: Presupuesto instalación"


async def test_excluded_addresses_are_never_recorded(world, boxes, clock, tmp_path):
    raw = message(sender="Avisos <avisos@banco.test>")
    done = await record(
        boxes.luis,
        boxes.luis_inbox,
        5,
        raw,
        clock=clock,
        tmp_path=tmp_path,
        patterns=["@banco.test"],
    )
    assert (done.email_id, done.skipped) == (None, "excluded")
    assert await EmailMessage.all().count() == 0
    assert await Lead.all().count() == 0


async def test_a_message_seen_again_moves_instead_of_doubling(world, boxes, clock, tmp_path):
    client = await create_client(
        world.luis, ClientInput(name="Talleres Peña", emails=["jose.pena@ejemplo.es"])
    )
    first = await record(boxes.luis, boxes.luis_inbox, 5, message(), clock=clock, tmp_path=tmp_path)
    archive = await MailFolderState.create(account_id=boxes.luis.id, name="Archivo")
    again = await record(boxes.luis, archive, 9, message(), clock=clock, tmp_path=tmp_path)
    assert (again.email_id, again.skipped, again.matched) == (first.email_id, "duplicate", True)
    email = await EmailMessage.get(id=first.email_id)
    assert (email.folder, email.uid) == ("Archivo", 9)
    assert await EmailMessage.all().count() == 1
    assert await TimelineEntry.filter(client_id=client.id, kind="email").count() == 1


async def test_attachments_are_private_files_and_big_ones_are_only_named(
    world, boxes, clock, tmp_path
):
    big = b"%PDF-1.4 " + b"x" * 500
    done = await record(
        boxes.luis, boxes.luis_inbox, 6, with_files(big), clock=clock, tmp_path=tmp_path, cap=200
    )
    email = await EmailMessage.get(id=done.email_id)
    assert email.has_attachments is True
    logo, pdf = await MailAttachment.filter(email_id=email.id).order_by("id")
    assert (logo.filename, logo.content_id, logo.size, logo.skipped) == (
        "logo.png",
        "logo@x",
        len(PNG),
        False,
    )
    kept = tmp_path / "mail" / logo.path
    assert kept.read_bytes() == PNG
    assert "logo" not in logo.path
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(kept.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "mail").st_mode) == 0o700
    # The sender's name is data only: no path of it is ever made.
    assert pdf.filename == ".._.._presupuesto año.pdf"
    assert (pdf.size, pdf.skipped, pdf.path) == (len(big), True, "")
    assert sorted(p.name for p in (tmp_path / "mail" / str(boxes.luis.id)).iterdir()) == [
        os.path.basename(logo.path)
    ]


async def test_an_unreadable_message_is_skipped_with_a_notice(
    world, boxes, clock, hub, events, tmp_path
):
    done = await record(
        boxes.luis, boxes.luis_inbox, 8, b"\r\n", clock=clock, tmp_path=tmp_path, hub=hub
    )
    assert (done.email_id, done.skipped) == (None, "broken")
    await hub.drain()
    skipped = [e for e in events if isinstance(e, MailSkipped)]
    assert [(e.uid, e.reason, e.user_ids) for e in skipped] == [
        (8, "broken", tuple(sorted((world.luis.id, world.marta.id))))
    ]


async def test_a_body_with_nul_characters_is_stored(world, boxes, clock, tmp_path):
    raw = message(body="Hola\x00, ¿qué tal?")
    done = await record(boxes.luis, boxes.luis_inbox, 10, raw, clock=clock, tmp_path=tmp_path)
    email = await EmailMessage.get(id=done.email_id)
    assert email.body == "Hola, ¿qué tal?\n"
