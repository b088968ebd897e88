"""Settings -> Mail through the real app: adding from a preset (with and without JavaScript),
errors naming the field, the password never shown back, who sees which mailbox, sharing,
the connection test against real servers (of a saved mailbox, and of the typed form before
saving), the exclusion list, Spanish."""

from __future__ import annotations

import re
from functools import partial

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


@pytest.fixture
async def dovecot_server(world, hub, clock, tmp_path, box, dovecot):
    """The app with the real probe, trusting the session's Dovecot certificate."""
    await User.all().update(language="en")
    checked = partial(probe, ssl_context=dovecot.ssl_context())
    services = WebServices(secret_box=box, mail_probe=checked)
    runner, srv = await start_server(web_settings(tmp_path), hub, clock, services)
    yield srv
    await runner.cleanup()


@pytest.fixture
def smtp_login():
    smtp, controller = start_smtp(with_auth=True)
    yield smtp
    controller.stop()


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


def _typed(dovecot, smtp, address: str, password: str) -> dict[str, str]:
    """The new-mailbox form as a user fills it for the test servers."""
    return {
        "provider": "custom",
        "address": address,
        "password": password,
        "imap_host": "127.0.0.1",
        "imap_port": str(dovecot.tls_port),
        "imap_security": "tls",
        "smtp_host": "127.0.0.1",
        "smtp_port": str(smtp.port),
        "smtp_security": "none",
        "signature": "Saludos, Luis",
        "first_sync_days": "30",
        "enabled": "1",
    }


async def test_testing_the_new_form_before_saving(world, dovecot_server, dovecot, smtp_login, http):
    url = dovecot_server.url
    address, password = dovecot.new_user("luis")
    await http_login(http, url, "luis", world.password)
    status, html = await _page(http, f"{url}/settings/mail/new?provider=custom")
    assert 'formaction="/settings/mail/test"' in html
    before = await MailAccount.all().count()

    wrong = _typed(dovecot, smtp_login, address, "not-the-password-5")
    status, html, _ = await _post(
        http, f"{url}/settings/mail/test", wrong, f"{url}/settings/mail/new"
    )
    assert status == 200
    assert f"127.0.0.1:{dovecot.tls_port}: the login or the password is wrong" in html
    assert "Authentication failed" in html  # Dovecot's own words
    assert "Nothing was saved." in html and "Type the password again to save" in html
    assert f'value="{address}"' in html and "Saludos, Luis" in html  # what was typed, kept
    assert "not-the-password-5" not in html
    assert 'name="password" type="password" value=""' in html
    assert await MailAccount.all().count() == before

    good = _typed(dovecot, smtp_login, address, password)
    status, html, _ = await _post(
        http, f"{url}/settings/mail/test", good, f"{url}/settings/mail/new"
    )
    assert status == 200
    assert f"127.0.0.1:{dovecot.tls_port}: logged in" in html
    assert f"127.0.0.1:{smtp_login.port}: logged in" in html
    assert (address, password) in smtp_login.logins and password not in html
    assert await MailAccount.all().count() == before

    # Checked as the save checks it: the field named, nothing probed; no password: asked for.
    logins = len(smtp_login.logins)
    bad = {**good, "imap_port": "99999", "smtp_security": "ssl"}
    status, html, _ = await _post(
        http, f"{url}/settings/mail/test", bad, f"{url}/settings/mail/new"
    )
    assert status == 422 and "a whole number from 1 to 65535" in html
    assert "choose tls, starttls or none" in html and 'value="99999"' in html
    status, html, _ = await _post(
        http, f"{url}/settings/mail/test", {**good, "password": ""}, f"{url}/settings/mail/new"
    )
    assert status == 422 and "enter the password (an app password)" in html
    assert len(smtp_login.logins) == logins and await MailAccount.all().count() == before

    # In Spanish, the same field's error in Spanish.
    await User.filter(id=world.luis.id).update(language="es")
    status, html, _ = await _post(
        http, f"{url}/settings/mail/test", bad, f"{url}/settings/mail/new"
    )
    assert status == 422 and "un número entero de 1 a 65535" in html


async def test_testing_the_edit_form_with_the_stored_or_typed_password(
    world, dovecot_server, dovecot, smtp_login, http, box
):
    url = dovecot_server.url
    address, password = dovecot.new_user("luis")
    data = _typed(dovecot, smtp_login, address, password)
    account = await accounts.create_account(
        world.luis,
        accounts.AccountInput(
            address,
            password,
            imap_host="127.0.0.1",
            imap_port=dovecot.tls_port,
            imap_security="tls",
            smtp_host="127.0.0.1",
            smtp_port=smtp_login.port,
            smtp_security="none",
        ),
        box=box,
    )
    page = f"{url}/settings/mail/{account.id}"
    await http_login(http, url, "luis", world.password)
    status, html = await _page(http, page)
    assert f'name="account_id" value="{account.id}"' in html

    # The password field left empty: the stored one logs in; a new signature is not saved.
    typed = {**data, "password": "", "signature": "Otra firma", "account_id": str(account.id)}
    status, html, _ = await _post(http, f"{url}/settings/mail/test", typed, page)
    assert status == 200 and f"127.0.0.1:{dovecot.tls_port}: logged in" in html
    assert "Otra firma" in html and "Type the password again" not in html
    row = await MailAccount.get(id=account.id)
    assert row.signature == "" and accounts.password_of(row, box) == password

    # A newly typed (wrong) password is the one tried, and the stored one stays.
    typed["password"] = "a-new-wrong-one-3"
    status, html, _ = await _post(http, f"{url}/settings/mail/test", typed, page)
    assert status == 200 and "the login or the password is wrong" in html
    assert "Type the password again to save" in html and "a-new-wrong-one-3" not in html
    row = await MailAccount.get(id=account.id)
    assert accounts.password_of(row, box) == password

    # Someone else's mailbox, or no mailbox, is not found: its stored password is not tried.
    http.cookie_jar.clear()
    await http_login(http, url, "marta", world.password)
    for account_id in (str(account.id), "x", "99999999999999999999999"):
        other = {**typed, "password": "", "account_id": account_id}
        status, _html, _ = await _post(
            http, f"{url}/settings/mail/test", other, f"{url}/settings/mail/new"
        )
        assert status == 404


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


async def test_test_connection_in_the_browser_then_save(
    world, dovecot_server, dovecot, smtp_login, page
):
    address, password = dovecot.new_user("luis")
    await login(page, dovecot_server.url, "luis", world.password)
    await page.goto(f"{dovecot_server.url}/settings/mail/new?provider=custom")
    for name, value in _typed(dovecot, smtp_login, address, password).items():
        if name not in ("provider", "enabled", "imap_security", "smtp_security"):
            await page.fill(f"#f-{name}", value)
    await page.select_option("#f-imap_security", "tls")
    await page.select_option("#f-smtp_security", "none")
    await page.click("button.mail-test")
    await page.wait_for_url(re.compile(r".*/settings/mail/test$"))
    result = await page.inner_text(".mail-probe")
    assert f"127.0.0.1:{dovecot.tls_port}: logged in" in result
    assert "Type the password again to save" in result
    assert await page.input_value("#f-address") == address
    assert await page.input_value("#f-password") == ""
    assert not await MailAccount.exists(address=address)
    await screenshot(page, "settings-mail-tested-before-saving")
    await page.fill("#f-password", password)
    await page.click("form.mail-account-form button[type=submit].primary")
    await page.wait_for_url(re.compile(r".*/settings/mail/\d+$"))
    row = await MailAccount.get(address=address)
    assert row.imap_port == dovecot.tls_port and row.signature == "Saludos, Luis"
