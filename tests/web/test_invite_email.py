"""Invitations by email (M2) end to end: an admin invites from the Team page of the real web app,
the outbox worker sends the email over SMTP to a local aiosmtpd server, and the link in the
email opens the page where the new colleague chooses a username and password. Without [mail]
configured the page says so and offers the link to copy."""

from __future__ import annotations

import asyncio
import re

import pytest
from pydantic import SecretStr

from daemon.mail import register_mail
from daemon.outbox_worker import OutboxWorker
from models.core.clock import SystemClock
from models.core.settings import MailSettings, Settings, WebSettings
from models.messaging import mail, outbox
from models.schema.outbox import OutboxMessage
from models.schema.users import Invite, User
from tests.smtp_server import smtp  # noqa: F401 (fixture)
from tests.web.conftest import LOGIN_LIMIT, csrf_from, http_login, start_server

LINK = re.compile(r"http://127\.0\.0\.1:\d+/invite/[\w-]+")


@pytest.fixture
async def mail_server(world, hub, tmp_path, smtp):  # noqa: F811
    """The web app with [mail] pointing at the local SMTP server, and the outbox worker."""
    settings = Settings(
        data_dir=tmp_path,
        web=WebSettings(
            secret_key=SecretStr("test-signing-key-" + "x" * 32),
            login_attempts_per_minute=LOGIN_LIMIT,
        ),
        mail=MailSettings(
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_security="none",
            from_address="Acme CRM <crm@acme.test>",
        ),
    )
    # The system clock, as `centralita run` has: the worker compares due times with it.
    runner, srv = await start_server(settings, hub, SystemClock())
    worker = OutboxWorker(clock=SystemClock(), poll_interval=0.05, base_backoff=0.05)
    register_mail(worker, settings.mail)
    await worker.start()
    yield srv
    await worker.stop()
    await runner.cleanup()


async def _team_token(http, url: str) -> str:
    async with http.get(f"{url}/team") as resp:
        return csrf_from(await resp.text())


async def _invite(http, url: str, **fields) -> tuple[int, str]:
    data = {"csrf_token": await _team_token(http, url), "group": "Agent", **fields}
    async with http.post(f"{url}/team/invites", data=data) as resp:
        return resp.status, await resp.text()


async def test_admin_invites_by_email_and_the_link_in_it_lets_the_colleague_join(
    mail_server,
    world,
    smtp,  # noqa: F811
    http,
):
    await http_login(http, mail_server.url, "ana", world.password)  # Ana reads Spanish
    status, html = await _invite(http, mail_server.url, email="eva@example.com", extension="150")
    assert status == 200
    assert "Invitación enviada a eva@example.com." in html
    shown_link = re.search(r'id="invite-link" readonly value="([^"]+)"', html).group(1)

    (received,) = await smtp.wait_for(1)
    assert received.recipients == ["eva@example.com"]
    assert received.message["Subject"] == "Invitación para unirte a Acme Telecom en Centralita CRM"
    text = received.text()
    assert "Ana García te invita a unirte al equipo de Acme Telecom" in text
    assert "caduca en 72 horas" in text
    (link,) = LINK.findall(text)
    assert link == shown_link
    assert f'href="{link}"' in received.html()

    http.cookie_jar.clear()  # the invited person has no session
    async with http.get(link) as resp:
        page = await resp.text()
        assert resp.status == 200
    assert "Únete al equipo" in page and 'name="password"' in page
    data = {"csrf_token": csrf_from(page), "username": "eva", "password": "eva-pass-123"}
    async with http.post(link, data=data, allow_redirects=False) as resp:
        assert resp.status == 303
    eva = await User.get(username="eva")
    assert (eva.email, eva.extension) == ("eva@example.com", "150")

    http.cookie_jar.clear()
    await http_login(http, mail_server.url, "ana", world.password)
    row = await OutboxMessage.get(kind=mail.KIND)
    assert row.status == outbox.SENT


async def test_the_email_is_in_the_inviters_language_and_failures_show_on_the_team_page(
    mail_server,
    world,
    smtp,  # noqa: F811
    http,
):
    world.ana.language = "en"
    await world.ana.save(update_fields=["language"])
    smtp.rcpt_replies["nobody@example.com"] = "550 5.1.1 No such user here"
    await http_login(http, mail_server.url, "ana", world.password)
    status, html = await _invite(http, mail_server.url, email="leo@example.com")
    assert status == 200 and "Invitation sent to leo@example.com." in html
    (received,) = await smtp.wait_for(1)
    assert received.message["Subject"] == "Invitation to join Acme Telecom on Centralita CRM"
    assert "Ana García invites you to join the team of Acme Telecom" in received.text()
    assert len(LINK.findall(received.text())) == 1

    status, _ = await _invite(http, mail_server.url, email="nobody@example.com")
    assert status == 200
    dead = await _wait_dead()
    assert "550" in dead.last_error
    async with http.get(f"{mail_server.url}/team") as resp:
        team_page = await resp.text()
    assert "email sent" in team_page
    assert "email failed: SMTP 550 5.1.1 No such user here" in team_page


async def _wait_dead() -> OutboxMessage:
    for _ in range(500):
        row = await OutboxMessage.filter(kind=mail.KIND, status=outbox.DEAD).first()
        if row is not None:
            return row
        await asyncio.sleep(0.03)
    raise AssertionError("the refused email never ended dead")


async def test_a_bad_address_is_refused_and_nothing_is_created(mail_server, world, http):
    await http_login(http, mail_server.url, "ana", world.password)
    status, html = await _invite(http, mail_server.url, email="eva at example.com")
    assert status == 422
    assert 'value="eva at example.com"' in html
    assert await Invite.all().count() == 0
    assert await OutboxMessage.filter(kind=mail.KIND).count() == 0


async def test_without_mail_configured_the_page_says_so_and_gives_the_link(
    world_server, world, http
):
    await http_login(http, world_server.url, "ana", world.password)
    async with http.get(f"{world_server.url}/team") as resp:
        page = await resp.text()
    assert 'id="mail-not-configured"' in page
    assert "El email no está configurado ([mail] smtp_host en config.toml)" in page
    status, html = await _invite(http, world_server.url, email="eva@example.com")
    assert status == 200
    assert "El email no está configurado, así que no se ha enviado ningún correo." in html
    assert "Invitación enviada" not in html
    assert f'value="{world_server.url}/invite/' in html
    assert await Invite.filter(email="eva@example.com").count() == 1
    assert await OutboxMessage.filter(kind=mail.KIND).count() == 0
