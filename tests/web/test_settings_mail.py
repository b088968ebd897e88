"""Settings -> Mail through the real app: adding from a preset (with and without JavaScript),
errors naming the field, the password never shown back, who sees which mailbox, sharing,
the connection test against real servers, the exclusion list, Spanish."""

from __future__ import annotations

import re

import pytest
from cryptography.fernet import Fernet

from daemon.mail_probe import probe
from models.core.secret_box import SecretBox
from models.messaging import mail_accounts as accounts
from models.schema.mail import MailAccount, MailAccountShare, MailExclusion
from models.schema.users import User
from tests.smtp_server import free_port, start_smtp
from tests.web.conftest import (
    csrf_from,
    http_login,
    login,
    screenshot,
    start_server,
    web_settings,
)
from web.services import WebServices

PASSWORD = "zq-app-pass-7781"


@pytest.fixture
def box():
    return SecretBox(Fernet.generate_key())


@pytest.fixture
async def mail_server(world, hub, clock, tmp_path, box):
    await User.all().update(language="en")
    services = WebServices(secret_box=box, mail_probe=probe)
    runner, srv = await start_server(web_settings(tmp_path), hub, clock, services)
    yield srv
    await runner.cleanup()


async def _page(http, url):
    async with http.get(url) as resp:
        return resp.status, await resp.text()


async def _post(http, url, data, token_page):
    _status, html = await _page(http, token_page)
    async with http.post(
        url, data={**data, "csrf_token": csrf_from(html)}, allow_redirects=False
    ) as resp:
        return resp.status, await resp.text(), resp.headers.get("Location", "")


async def test_add_from_a_preset_without_javascript_and_edit(world, mail_server, http, box):
    url = mail_server.url
    await http_login(http, url, "luis", world.password)
    status, html = await _page(http, f"{url}/settings/profile")
    assert 'href="/settings/mail"' in html  # the settings menu links it
    status, html = await _page(http, f"{url}/settings/mail/new?provider=yahoo")
    assert status == 200 and 'value="imap.mail.yahoo.com"' in html
    assert "Yahoo needs an app password" in html

    # The hosts left empty: the server takes them from the preset.
    data = {
        "provider": "gmail",
        "address": "luis@gmail.com",
        "password": PASSWORD,
        "leads_from_senders": "1",
        "enabled": "1",
        "first_sync_days": "14",
        "owner_id": str(world.ana.id),  # an agent cannot add a mailbox for someone else
    }
    status, html, location = await _post(
        http, f"{url}/settings/mail", data, f"{url}/settings/mail/new"
    )
    assert status == 303, html
    row = await MailAccount.get(address="luis@gmail.com")
    assert location == f"/settings/mail/{row.id}" and row.owner_id == world.luis.id
    assert (row.imap_host, row.smtp_host, row.server_saves_sent) == (
        "imap.gmail.com",
        "smtp.gmail.com",
        True,
    )
    assert accounts.password_of(row, box) == PASSWORD and PASSWORD not in row.password_encrypted

    status, html = await _page(http, f"{url}/settings/mail/{row.id}")
    assert status == 200 and "luis@gmail.com" in html and PASSWORD not in html
    assert 'name="password" type="password" value=""' in html
    status, html = await _page(http, f"{url}/settings/mail")
    assert "luis@gmail.com" in html and "Not synced yet" in html

    # Bad input: the form again, the field named, what was typed kept, the password not.
    bad = {**data, "imap_host": "imap.gmail.com", "imap_port": "70000", "imap_security": "tls"}
    bad.update(smtp_host="smtp.gmail.com", smtp_port="465", smtp_security="ssl", signature="Luis")
    status, html, _ = await _post(
        http, f"{url}/settings/mail/{row.id}", bad, f"{url}/settings/mail/{row.id}"
    )
    assert status == 422
    assert "a whole number from 1 to 65535" in html and "choose tls, starttls or none" in html
    assert 'value="70000"' in html and PASSWORD not in html

    # An empty password keeps the stored one.
    good = {**bad, "smtp_security": "tls", "imap_port": "993", "password": ""}
    status, html, _ = await _post(
        http, f"{url}/settings/mail/{row.id}", good, f"{url}/settings/mail/{row.id}"
    )
    assert status == 303, html
    row = await MailAccount.get(id=row.id)
    assert row.signature == "Luis" and accounts.password_of(row, box) == PASSWORD


async def test_others_get_404_admin_manages_and_shares(world, mail_server, http, box):
    url = mail_server.url
    account = await accounts.create_account(
        world.luis, accounts.AccountInput("luis@gmail.com", PASSWORD, "gmail"), box=box
    )
    await http_login(http, url, "marta", world.password)
    for path in (f"/settings/mail/{account.id}", "/settings/mail/999999999999999999999"):
        status, _ = await _page(http, f"{url}{path}")
        assert status == 404
    status, _html, _ = await _post(
        http, f"{url}/settings/mail/{account.id}/delete", {}, f"{url}/settings/mail"
    )
    assert status == 404 and await MailAccount.exists(id=account.id)
    status, html = await _page(http, f"{url}/settings/mail")
    assert "luis@gmail.com" not in html and "Exclusion list" not in html

    http.cookie_jar.clear()
    await http_login(http, url, "ana", world.password)
    status, html = await _page(http, f"{url}/settings/mail")
    assert "luis@gmail.com" in html and "Luis Pérez" in html and "Exclusion list" in html
    form = {"shares": [str(world.marta.id)]}
    status, html, _ = await _post(
        http, f"{url}/settings/mail/{account.id}/shares", form, f"{url}/settings/mail/{account.id}"
    )
    assert status == 303, html
    assert await MailAccountShare.filter(account_id=account.id).values_list(
        "user_id", flat=True
    ) == [world.marta.id]

    http.cookie_jar.clear()
    await http_login(http, url, "marta", world.password)
    status, html = await _page(http, f"{url}/settings/mail")
    assert "Shared with you" in html and "luis@gmail.com" in html
    status, _ = await _page(http, f"{url}/settings/mail/{account.id}")
    assert status == 404  # shared to use, not to manage

    http.cookie_jar.clear()
    await http_login(http, url, "luis", world.password)
    status, _html, location = await _post(
        http, f"{url}/settings/mail/{account.id}/delete", {}, f"{url}/settings/mail"
    )
    assert status == 303 and location == "/settings/mail"
    assert not await MailAccount.exists(id=account.id)


async def test_connection_test_shows_each_side(world, mail_server, http, box):
    smtp, controller = start_smtp(with_auth=True)
    try:
        closed = free_port()
        account = await accounts.create_account(
            world.luis,
            accounts.AccountInput(
                "luis@example.com",
                PASSWORD,
                imap_host="127.0.0.1",
                imap_port=closed,
                imap_security="tls",
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                smtp_security="none",
            ),
            box=box,
        )
        await http_login(http, mail_server.url, "luis", world.password)
        page = f"{mail_server.url}/settings/mail/{account.id}"
        status, html, _ = await _post(http, f"{page}/test", {}, page)
    finally:
        controller.stop()
    assert status == 200
    assert f"127.0.0.1:{closed}: the connection was refused. Check the port." in html
    assert f"127.0.0.1:{smtp.port}: logged in" in html
    assert smtp.logins == [("luis@example.com", PASSWORD)] and PASSWORD not in html


async def test_exclusion_list_for_admins_in_spanish(world, mail_server, http):
    await User.filter(id=world.ana.id).update(language="es")
    url = mail_server.url
    await http_login(http, url, "ana", world.password)
    status, html, _ = await _post(
        http, f"{url}/settings/mail/exclusions", {"pattern": "bank"}, f"{url}/settings/mail"
    )
    assert status == 422 and "escribe una dirección (ana@example.com) o un dominio" in html
    status, html, _ = await _post(
        http, f"{url}/settings/mail/exclusions", {"pattern": "@Bank.es"}, f"{url}/settings/mail"
    )
    assert status == 303
    status, html = await _page(http, f"{url}/settings/mail")
    assert "Lista de exclusión" in html and "@bank.es" in html and "Correo" in html
    row = await MailExclusion.get(pattern="@bank.es")
    status, html, _ = await _post(
        http, f"{url}/settings/mail/exclusions/{row.id}/delete", {}, f"{url}/settings/mail"
    )
    assert status == 303 and not await MailExclusion.exists(id=row.id)

    http.cookie_jar.clear()
    await http_login(http, url, "luis", world.password)
    status, _html, _ = await _post(
        http, f"{url}/settings/mail/exclusions", {"pattern": "@x.com"}, f"{url}/settings/mail"
    )
    assert status == 403 and not await MailExclusion.exists(pattern="@x.com")


async def test_choosing_gmail_fills_the_servers_in_the_browser(world, mail_server, page):
    await login(page, mail_server.url, "luis", world.password)
    await page.goto(f"{mail_server.url}/settings/mail/new?provider=custom")
    assert await page.input_value("#f-imap_host") == ""
    await page.select_option("#f-provider", "gmail")
    assert await page.input_value("#f-imap_host") == "imap.gmail.com"
    assert await page.input_value("#f-smtp_port") == "465"
    assert await page.is_checked("[name=server_saves_sent]")
    assert "App passwords" in await page.inner_text(".mail-hint")
    await screenshot(page, "settings-mail-new")
    await page.fill("#f-address", "luis@gmail.com")
    await page.fill("#f-password", PASSWORD)
    await page.click("form.mail-account-form button[type=submit]")
    await page.wait_for_url(re.compile(r".*/settings/mail/\d+$"))
    assert "Mailbox added" in await page.inner_text("body")
    assert PASSWORD not in await page.content()
    assert await page.input_value("#f-password") == ""
    row = await MailAccount.get(address="luis@gmail.com")
    assert (row.imap_host, row.smtp_port) == ("imap.gmail.com", 465)
