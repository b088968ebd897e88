"""Writing mail in the panel over HTTP (C6, C8), in Spanish: the card's button and form, a
refused field, the page without a mailbox, a reply, records one may not see, and the bulk path
from the clients list (an edited address, a removed recipient, a client without an address)
to its per-recipient results page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from models.contacts.clients import ClientInput, create_client
from models.core.secret_box import SecretBox
from models.schema.activity import EmailMessage
from models.schema.clients import Client, Email
from models.schema.mail import MailAccount
from models.schema.outbox import OutboxMessage
from tests.web.conftest import csrf_from, http_login

BOX = SecretBox(b"1" * 43 + b"=")


async def _mailbox(owner, address: str, **more) -> MailAccount:
    return await MailAccount.create(
        owner_id=owner.id,
        address=address,
        display_name=more.pop("display_name", ""),
        login=address,
        password_encrypted=BOX.seal("app-pass"),
        imap_host="127.0.0.1",
        imap_port=143,
        smtp_host="127.0.0.1",
        smtp_port=25,
        **more,
    )


async def _get(http, url: str) -> tuple[int, str]:
    async with http.get(url) as resp:
        return resp.status, await resp.text()


async def _post(http, url: str, data) -> tuple[int, str, str]:
    async with http.post(url, data=data, allow_redirects=False) as resp:
        return resp.status, await resp.text(), resp.headers.get("Location", "")


def _field_error(html: str, name: str) -> str:
    """The error shown under the field `name` ("" when none)."""
    match = re.search(
        rf'id="(?:f-)?{re.escape(name)}".*?<p class="field-error" role="alert">(.*?)</p>',
        html,
        re.S,
    )
    return unescape(match.group(1)) if match else ""


@pytest.fixture
async def people(world):
    eva = await create_client(
        world.luis, ClientInput(name="Eva Soto", emails=["eva@example.com", "eva@work.example"])
    )
    hidden = await create_client(world.marta, ClientInput(name="Oculto SA", emails=["x@o.example"]))
    return eva, hidden


async def test_the_card_button_opens_a_prefilled_form_that_sends_the_email(
    world_server, world, people, http
):
    eva, _ = people
    account = await _mailbox(world.luis, "luis@acme.test", display_name="Luis Pérez")
    await http_login(http, world_server.url, "luis", world.password)
    status, card = await _get(http, f"{world_server.url}/clients/{eva.id}")
    assert status == 200
    link = re.search(r'href="([^"]+)" data-email-button', card)
    assert link and "Enviar correo" in card
    status, page = await _get(http, world_server.url + unescape(link.group(1)))
    assert status == 200
    assert 'value="eva@example.com, eva@work.example"' in page
    assert "Luis Pérez &lt;luis@acme.test&gt;" in page  # the From choice
    token = csrf_from(page)
    form = {
        "csrf_token": token,
        "account_id": str(account.id),
        "to": "eva@example.com, eva(at)example",
        "subject": "Presupuesto",
        "body": "Hola Eva",
        "client_id": str(eva.id),
        "next": f"/clients/{eva.id}",
    }
    status, page, _ = await _post(http, f"{world_server.url}/emails/new", form)
    assert status == 422
    assert _field_error(page, "to") == "«eva(at)example» no es una dirección de correo"
    assert 'value="Presupuesto"' in page  # what was typed is kept
    form["to"] = "eva@example.com"
    form["body"] = ""
    status, page, _ = await _post(http, f"{world_server.url}/emails/new", form)
    assert status == 422 and _field_error(page, "body") == "escribe el mensaje"
    form["body"] = "Hola Eva,\nte mando el presupuesto."
    status, _, location = await _post(http, f"{world_server.url}/emails/new", form)
    assert (status, location) == (303, f"/clients/{eva.id}")
    email = await EmailMessage.get(client_id=eva.id)
    assert (email.status, email.recipients, email.subject) == (
        "queued",
        "eva@example.com",
        "Presupuesto",
    )
    assert await OutboxMessage.filter(kind="mail_out").count() == 1
    status, card = await _get(http, f"{world_server.url}/clients/{eva.id}")
    assert "Correo en cola para enviarse." in card
    assert f'href="/emails/{email.id}"' in card  # on the timeline


async def test_without_a_mailbox_the_form_says_so_and_links_to_settings(
    world_server, world, people, http
):
    eva, _ = people
    await http_login(http, world_server.url, "luis", world.password)
    status, page = await _get(http, f"{world_server.url}/emails/new?client_id={eva.id}")
    assert status == 200
    assert "Aún no tienes ningún buzón desde el que enviar." in page
    assert 'href="/settings/mail"' in page
    form = {"csrf_token": csrf_from(page), "to": "eva@example.com", "subject": "x", "body": "y"}
    status, page, _ = await _post(http, f"{world_server.url}/emails/new", form)
    assert status == 422 and "elige uno de tus buzones" in page
    assert await EmailMessage.all().count() == 0


async def test_records_one_may_not_see_answer_404_and_odd_input_no_500(
    world_server, world, people, http
):
    _, hidden = people
    account = await _mailbox(world.luis, "luis@acme.test")
    await http_login(http, world_server.url, "luis", world.password)
    for path in (
        f"/emails/new?client_id={hidden.id}",
        "/emails/new?lead_id=999999",
        "/emails/999999/reply",
        "/emails/99999999999999999999/reply",
        "/emails/bulk/00000000-0000-0000-0000-000000000000",
    ):
        status, _ = await _get(http, world_server.url + path)
        assert status == 404, path
    status, page = await _get(http, f"{world_server.url}/emails/new?client_id=abc&lead_id=")
    assert status == 200
    token = csrf_from(page)
    odd = {
        "csrf_token": token,
        "account_id": "x" * 30,
        "to": "a@b.example",
        "subject": "s",
        "body": "b",
        "client_id": "-5",
        "reply_to": "99999999999999",
    }
    status, page, _ = await _post(http, f"{world_server.url}/emails/new", odd)
    assert status == 422 and "elige uno de tus buzones" in page
    hidden_form = dict(odd, account_id=str(account.id), client_id=str(hidden.id), reply_to="")
    status, _, _ = await _post(http, f"{world_server.url}/emails/new", hidden_form)
    assert status == 404
    # Agents have no bulk right: the clients list offers no bulk email, the page refuses.
    status, listing = await _get(http, f"{world_server.url}/clients")
    assert 'id="bulk-email"' not in listing
    status, _, _ = await _post(
        http, f"{world_server.url}/clients/bulk-email", {"csrf_token": token, "client_ids": "1"}
    )
    assert status == 403
    assert await EmailMessage.all().count() == 0


async def test_a_reply_is_prefilled_from_the_email(world_server, world, people, http):
    eva, _ = people
    account = await _mailbox(world.luis, "luis@acme.test")
    parent = await EmailMessage.create(
        direction="in",
        message_id="<p1@example.com>",
        sender="eva@example.com",
        recipients="luis@acme.test",
        subject="Presupuesto",
        body="¿Cuánto cuesta?",
        client_id=eva.id,
        account_id=account.id,
        created_at=eva.created_at,
    )
    await http_login(http, world_server.url, "luis", world.password)
    status, page = await _get(http, f"{world_server.url}/emails/{parent.id}/reply")
    assert status == 200
    assert 'value="Re: Presupuesto"' in page and 'value="eva@example.com"' in page
    assert f'name="reply_to" value="{parent.id}"' in page
    assert "&gt; ¿Cuánto cuesta?" in page
    form = {
        "csrf_token": csrf_from(page),
        "account_id": str(account.id),
        "to": "eva@example.com",
        "subject": "Re: Presupuesto",
        "body": "300 €",
        "reply_to": str(parent.id),
        "client_id": str(eva.id),
        "next": f"/emails/{parent.id}",
    }
    status, _, location = await _post(http, f"{world_server.url}/emails/new", form)
    assert (status, location) == (303, f"/emails/{parent.id}")
    reply = await EmailMessage.get(direction="out")
    assert (reply.in_reply_to, reply.references) == ("<p1@example.com>", "<p1@example.com>")


async def test_bulk_from_the_clients_list_with_edited_recipients_and_results(
    world_server, world, people, http
):
    eva, hidden = people
    juan = await create_client(world.ana, ClientInput(name="Juan Gil", phones=["+34600000002"]))
    account = await _mailbox(world.ana, "ana@acme.test", signature="Ana García")
    await http_login(http, world_server.url, "ana", world.password)
    status, listing = await _get(http, f"{world_server.url}/clients")
    assert 'formaction="/clients/bulk-email"' in listing
    token = csrf_from(listing)
    selection = [("csrf_token", token)] + [("client_ids", str(c.id)) for c in (eva, juan, hidden)]
    status, page, _ = await _post(http, f"{world_server.url}/clients/bulk-email", selection)
    assert status == 200
    assert "3 destinatarios" in page
    rows = dict(re.findall(r'name="(r-\d+-client)" value="(\d+)"', page))
    by_client = {v: k.split("-")[1] for k, v in rows.items()}
    assert set(by_client) == {str(eva.id), str(juan.id), str(hidden.id)}
    assert f'name="r-{by_client[str(eva.id)]}-address" type="email" value="eva@example.com"' in page
    assert f'name="r-{by_client[str(juan.id)]}-address" type="email" value=""' in page

    form = [("csrf_token", token), ("rows", "3"), ("account_id", str(account.id))]
    form += [("subject", "Novedades"), ("body", "Hola:\nnuevas tarifas.")]
    for client_id, i in by_client.items():
        form.append((f"r-{i}-client", client_id))
    form.append((f"r-{by_client[str(eva.id)]}-address", "eva arroba work"))
    form.append((f"r-{by_client[str(juan.id)]}-address", ""))
    form.append((f"r-{by_client[str(hidden.id)]}-address", "x@o.example"))
    status, page, _ = await _post(http, f"{world_server.url}/emails/bulk", form)
    assert status == 422  # the typo is named on its row; nothing is sent
    eva_field = f"r-{by_client[str(eva.id)]}-address"
    assert _field_error(page, eva_field) == "«eva arroba work» no es una dirección de correo"
    assert await EmailMessage.all().count() == 0

    form = [(k, "eva@work.example" if k == eva_field else v) for k, v in form]
    form.append((f"r-{by_client[str(hidden.id)]}-remove", "1"))
    status, _, location = await _post(http, f"{world_server.url}/emails/bulk", form)
    assert status == 303 and location.startswith("/emails/bulk/")
    emails = await EmailMessage.filter(direction="out")
    assert [(e.recipients, e.client_id) for e in emails] == [("eva@work.example", eva.id)]

    status, results = await _get(http, world_server.url + location)
    assert status == 200
    assert "No enviado (sin dirección): Juan Gil" in results
    assert 'http-equiv="refresh"' in results  # refreshes while a message is queued
    assert re.search(r'data-status="queued">\s*En cola', results)
    # What the sender records shows up: here, the server's refusal.
    await EmailMessage.filter(id=emails[0].id).update(
        status="failed", error="SMTP 550 5.1.1 <eva@work.example>: no such user"
    )
    status, results = await _get(http, world_server.url + location)
    assert "SMTP 550 5.1.1 &lt;eva@work.example&gt;: no such user" in results
    assert 'http-equiv="refresh"' not in results


async def test_more_than_100_recipients_are_refused_with_the_count(world_server, world, http):
    now = datetime.now(UTC)
    await Client.bulk_create(
        [Client(name=f"Cliente {i}", name_key=f"cliente {i}", created_at=now) for i in range(101)]
    )
    ids = [c.id for c in await Client.all().order_by("id")]
    await Email.bulk_create(
        [Email(address=f"c{i}@example.com", client_id=cid) for i, cid in enumerate(ids)]
    )
    account = await _mailbox(world.ana, "ana@acme.test")
    await http_login(http, world_server.url, "ana", world.password)
    status, listing = await _get(http, f"{world_server.url}/clients")
    token = csrf_from(listing)
    selection = [("csrf_token", token)] + [("client_ids", str(i)) for i in ids]
    status, page, _ = await _post(http, f"{world_server.url}/clients/bulk-email", selection)
    assert status == 200
    assert "Como máximo 100 destinatarios por envío: quita algunos (ahora hay 101)." in page
    form = [("csrf_token", token), ("rows", "101"), ("account_id", str(account.id))]
    form += [("subject", "Hola"), ("body", "Texto")]
    for i, cid in enumerate(ids):
        form += [(f"r-{i}-client", str(cid)), (f"r-{i}-address", f"c{i}@example.com")]
    status, page, _ = await _post(http, f"{world_server.url}/emails/bulk", form)
    assert status == 422
    assert "como máximo 100 destinatarios por envío; hay 101" in page
    form.append(("r-0-remove", "1"))  # one fewer: the send goes
    status, _, location = await _post(http, f"{world_server.url}/emails/bulk", form)
    assert status == 303 and location.startswith("/emails/bulk/")
    assert await EmailMessage.filter(direction="out").count() == 100
