"""Sending mail from the CRM (C6, C8), the domain side: what is checked before anything is
written, the one transaction (email row, outbox row, timeline entry), the signature, reply
threading, the 100-recipient limit of a bulk send and its per-recipient results."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from models.contacts.clients import ClientInput, create_client
from models.core.errors import NotFound, PermissionDenied, ValidationFailed
from models.core.secret_box import SecretBox
from models.messaging import mail_compose as compose_ops
from models.messaging import outbox
from models.messaging.mail_compose import BulkRecipient, bulk_results, compose, compose_bulk
from models.messaging.mail_drafts import bulk_candidates, draft_for
from models.sales.leads import LeadInput, create_lead
from models.schema.activity import EmailMessage, TimelineEntry
from models.schema.clients import Client
from models.schema.mail import MailAccount, MailAccountShare
from models.schema.outbox import OutboxMessage

BOX = SecretBox(b"0" * 43 + b"=")


@dataclass
class Mailworld:
    account: MailAccount  # Luis's mailbox, with a signature
    marta_account: MailAccount
    eva: Client  # Luis's client, two addresses
    hidden: Client  # Marta's client: Luis may not see it


async def _account(owner, address: str, **more) -> MailAccount:
    values = {
        "owner_id": owner.id,
        "address": address,
        "display_name": more.pop("display_name", ""),
        "login": address,
        "password_encrypted": BOX.seal("app-pass"),
        "imap_host": "127.0.0.1",
        "imap_port": 143,
        "imap_security": "none",
        "smtp_host": "127.0.0.1",
        "smtp_port": 25,
        "smtp_security": "none",
    }
    values.update(more)
    return await MailAccount.create(**values)


@pytest.fixture
async def mw(world) -> Mailworld:
    account = await _account(
        world.luis, "luis@acme.test", signature="Luis Pérez\nAcme Telecom · ventas"
    )
    marta_account = await _account(world.marta, "marta@acme.test")
    eva = await create_client(
        world.luis, ClientInput(name="Eva Soto", emails=["eva@example.com", "eva@work.example"])
    )
    hidden = await create_client(
        world.marta, ClientInput(name="Oculto SA", emails=["jefe@oculto.example"])
    )
    return Mailworld(account, marta_account, eva, hidden)


async def test_a_message_from_the_card_is_queued_with_signature_outbox_row_and_timeline(
    world, mw, clock
):
    email = await compose(
        world.luis,
        mw.account.id,
        ["Eva@Example.com"],
        "Presupuesto",
        "Hola Eva,\r\n\r\nadjunto el presupuesto.\r\n",
        client_id=mw.eva.id,
        clock=clock,
    )
    stored = await EmailMessage.get(id=email.id)
    assert (stored.direction, stored.status, stored.recipients) == (
        "out",
        "queued",
        "eva@example.com",
    )
    assert stored.sender == "luis@acme.test"
    assert stored.body == (
        "Hola Eva,\n\nadjunto el presupuesto.\n\n-- \nLuis Pérez\nAcme Telecom · ventas"
    )
    assert stored.message_id.startswith("<") and stored.message_id.endswith("@acme.test>")
    assert (stored.client_id, stored.user_id, stored.account_id) == (
        mw.eva.id,
        world.luis.id,
        mw.account.id,
    )
    rows = await OutboxMessage.filter(kind="mail_out")
    assert [(r.payload, r.status) for r in rows] == [({"email_id": email.id}, "pending")]
    entries = await TimelineEntry.filter(kind="email", ref_id=email.id)
    assert [e.client_id for e in entries] == [mw.eva.id]


async def test_a_reply_threads_under_its_parent_and_lands_on_its_client(world, mw, clock):
    parent = await EmailMessage.create(
        direction="in",
        message_id="<p1@example.com>",
        references="<r0@example.com>",
        sender="eva@example.com",
        recipients="luis@acme.test",
        subject="Presupuesto",
        body="¿Me mandas el precio?\nGracias",
        client_id=mw.eva.id,
        account_id=mw.account.id,
        created_at=clock.now(),
    )
    draft = await draft_for(world.luis, reply_to_email_id=parent.id)
    assert (draft.to, draft.subject, draft.client_id, draft.account_id) == (
        "eva@example.com",
        "Re: Presupuesto",
        mw.eva.id,
        mw.account.id,
    )
    assert draft.body.endswith("> ¿Me mandas el precio?\n> Gracias")
    reply = await compose(
        world.luis,
        mw.account.id,
        [draft.to],
        draft.subject,
        "Son 300 €." + draft.body,
        reply_to_email_id=parent.id,
        clock=clock,
    )
    assert reply.in_reply_to == "<p1@example.com>"
    assert reply.references == "<r0@example.com> <p1@example.com>"
    assert reply.subject == "Re: Presupuesto"
    assert reply.client_id == mw.eva.id
    assert reply.message_id != parent.message_id
    # A reply to the reply: "Re:" once, the chain grows.
    again = await compose(
        world.luis,
        mw.account.id,
        ["eva@example.com"],
        "",
        "Vale",
        reply_to_email_id=reply.id,
        clock=clock,
    )
    assert again.subject == "Re: Presupuesto"
    assert again.references == "<r0@example.com> <p1@example.com> " + reply.message_id


async def test_bad_input_names_the_field_and_writes_nothing(world, mw, clock):
    cases = [
        (["eva@example.com", "no es correo"], "Hola", "texto", "to"),
        ([], "Hola", "texto", "to"),
        (["eva@example.com"], "Hola\nBcc: x@evil.example", "texto", "subject"),
        (["eva@example.com"], "Hola", "  \n ", "body"),
        (["eva@example.com"], "x" * 401, "texto", "subject"),
        ([f"p{i}@example.com" for i in range(101)], "Hola", "texto", "to"),
    ]
    for to, subject, body, field in cases:
        with pytest.raises(ValidationFailed) as err:
            await compose(world.luis, mw.account.id, to, subject, body, clock=clock)
        assert field in err.value.fields, (to[:2], subject, body)
    with pytest.raises(ValidationFailed) as err:
        await compose(
            world.luis, mw.marta_account.id, ["eva@example.com"], "Hola", "x", clock=clock
        )
    assert "account_id" in err.value.fields  # Marta's mailbox is not Luis's to use
    assert await EmailMessage.all().count() == 0
    assert await OutboxMessage.all().count() == 0


async def test_only_records_and_mailboxes_the_user_may_use(world, mw, clock):
    with pytest.raises(NotFound):
        await compose(
            world.luis,
            mw.account.id,
            ["jefe@oculto.example"],
            "Hola",
            "x",
            client_id=mw.hidden.id,
            clock=clock,
        )
    with pytest.raises(NotFound):
        await draft_for(world.luis, client_id=mw.hidden.id)
    secret = await EmailMessage.create(
        direction="in",
        message_id="<s@x>",
        sender="jefe@oculto.example",
        subject="Privado",
        client_id=mw.hidden.id,
        account_id=mw.marta_account.id,
        created_at=clock.now(),
    )
    with pytest.raises(NotFound):
        await compose(
            world.luis,
            mw.account.id,
            ["a@example.com"],
            "",
            "x",
            reply_to_email_id=secret.id,
            clock=clock,
        )
    # Shared with Luis, Marta's mailbox is his to send from; turned off, it is not.
    await MailAccountShare.create(account_id=mw.marta_account.id, user_id=world.luis.id)
    sent = await compose(
        world.luis, mw.marta_account.id, ["a@example.com"], "Hola", "x", clock=clock
    )
    assert sent.sender == "marta@acme.test"
    await MailAccount.filter(id=mw.marta_account.id).update(enabled=False)
    with pytest.raises(ValidationFailed) as err:
        await compose(world.luis, mw.marta_account.id, ["a@example.com"], "Hola", "x", clock=clock)
    assert "account_id" in err.value.fields


async def test_a_bulk_send_queues_one_message_each_and_reports_per_recipient(world, mw, clock):
    lead = await create_lead(world.ana, LeadInput(name="Pablo Ruiz", emails=["pablo@example.com"]))
    ana_account = await _account(world.ana, "ana@acme.test", signature="Ana")
    candidates = await bulk_candidates(world.ana, [mw.eva.id, mw.hidden.id, mw.eva.id])
    assert [(c.name, c.address) for c in candidates] == [
        ("Eva Soto", "eva@example.com"),
        ("Oculto SA", "jefe@oculto.example"),
    ]
    recipients = [
        BulkRecipient("eva@work.example", client_id=mw.eva.id),  # edited by the user
        BulkRecipient("jefe@oculto.example", client_id=mw.hidden.id),
        BulkRecipient("pablo@example.com", lead_id=lead.id),
    ]
    ref = await compose_bulk(
        world.ana, ana_account.id, recipients, "Novedades", "Hola:\nnuevas tarifas.", clock=clock
    )
    emails = await EmailMessage.filter(bulk_ref=ref).order_by("id")
    assert [e.recipients for e in emails] == [
        "eva@work.example",
        "jefe@oculto.example",
        "pablo@example.com",
    ]
    assert len({e.message_id for e in emails}) == 3
    assert all(e.body.endswith("\n\n-- \nAna") for e in emails)
    rows = await OutboxMessage.filter(kind="mail_out").order_by("id")
    assert [r.payload["email_id"] for r in rows] == [e.id for e in emails]
    assert await TimelineEntry.filter(kind="email").count() == 3

    # The server refused one for good; another is being retried after a 4xx.
    await EmailMessage.filter(id=emails[1].id).update(
        status="failed", error="SMTP 550 5.1.1 No such user"
    )
    await outbox.mark_dead(rows[1].id, "SMTP 550 5.1.1 No such user")
    await OutboxMessage.filter(id=rows[2].id).update(last_error="SMTP 451 4.7.1 Later", attempts=1)
    results = await bulk_results(world.ana, ref)
    assert [(r.name, r.address, r.status, r.error) for r in results] == [
        ("Eva Soto", "eva@work.example", "queued", ""),
        ("Oculto SA", "jefe@oculto.example", "failed", "SMTP 550 5.1.1 No such user"),
        ("Pablo Ruiz", "pablo@example.com", "queued", "SMTP 451 4.7.1 Later"),
    ]
    # The outbox gave up after its retries: failed, with the last answer.
    await outbox.mark_dead(rows[2].id, "gave up after 10 attempts: SMTP 451 4.7.1 Later")
    assert (await bulk_results(world.ana, ref))[2].status == "failed"
    with pytest.raises(NotFound):
        await bulk_results(world.luis, ref)  # not his, and no bulk right
    with pytest.raises(NotFound):
        await bulk_results(world.ana, "no-such-ref")


async def test_a_bulk_send_is_refused_whole_when_a_row_is_wrong_or_too_many(world, mw, clock):
    ana_account = await _account(world.ana, "ana@acme.test")
    too_many = [BulkRecipient(f"c{i}@example.com", client_id=mw.eva.id) for i in range(101)]
    with pytest.raises(ValidationFailed) as err:
        await compose_bulk(world.ana, ana_account.id, too_many, "Hola", "x", clock=clock)
    assert "100" in err.value.fields["recipients"]
    rows = [
        BulkRecipient("eva@example.com", client_id=mw.eva.id),
        BulkRecipient("eva arroba example", client_id=mw.eva.id),
    ]
    with pytest.raises(ValidationFailed) as err:
        await compose_bulk(world.ana, ana_account.id, rows, "Hola", "x", clock=clock)
    assert list(err.value.fields) == ["recipient-1"]
    assert "eva arroba example" in err.value.fields["recipient-1"]
    hundred = [BulkRecipient(f"c{i}@example.com", client_id=mw.eva.id) for i in range(100)]
    ref = await compose_bulk(world.ana, ana_account.id, hundred, "Hola", "x", clock=clock)
    assert await EmailMessage.filter(bulk_ref=ref).count() == 100
    assert await OutboxMessage.filter(kind=compose_ops.KIND).count() == 100
    # Agents have no bulk right; Luis's own clients do not change that.
    with pytest.raises(PermissionDenied):
        await compose_bulk(world.luis, mw.account.id, rows[:1], "Hola", "x", clock=clock)


async def test_addresses_go_on_the_wire_as_mail_servers_take_them(world, mw, clock):
    email = await compose(
        world.luis,
        mw.account.id,
        ['"Soto Eva" <Eva@Ejémplo.es>; pablo@example.com'],
        "Hola",
        "x",
        clock=clock,
    )
    assert email.recipients == "eva@xn--ejmplo-cva.es, pablo@example.com"
    with pytest.raises(ValidationFailed) as err:
        await compose(world.luis, mw.account.id, ["josé@example.com"], "Hola", "x", clock=clock)
    assert "antes de la @" in err.value.fields["to"].in_language("es")


def test_a_to_field_keeps_quoted_names_with_commas_whole():
    typed = '"Pérez, Ana" <ana@example.com>; luis@example.com, "Ruiz; Eva" <eva@example.com>'
    assert compose_ops.parse_addresses(typed) == [
        "ana@example.com",
        "luis@example.com",
        "eva@example.com",
    ]
    with pytest.raises(ValidationFailed) as refused:
        compose_ops.parse_addresses("Pérez, Ana <ana@example.com>")  # the name was not quoted
    assert "to" in refused.value.fields
