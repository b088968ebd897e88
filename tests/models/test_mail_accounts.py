"""Mailboxes (G5): validation, the company's limit, who may manage and use which, the sealed
password, and the exclusion list."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet

from models.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from models.core.events import MailAccountsChanged
from models.core.secret_box import SecretBox, SecretUnreadable
from models.messaging import mail_accounts as accounts
from models.messaging import mail_exclusions as exclusions
from models.messaging.mail_accounts import AccountInput
from models.people import users as user_ops
from models.schema.mail import MailAccount


@pytest.fixture
def box():
    return SecretBox(Fernet.generate_key())


def gmail(address="luis@gmail.com", password="abcd efgh ijkl mnop", **extra):
    return AccountInput(**{"address": address, "password": password, "provider": "gmail", **extra})


async def test_a_preset_fills_the_servers_and_the_password_is_sealed(world, box, hub):
    seen: list[object] = []

    async def keep(event):
        seen.append(event)

    hub.subscribe("test", keep, MailAccountsChanged)
    account = await accounts.create_account(world.luis, gmail(" Luis@Gmail.com "), box=box, hub=hub)
    row = await MailAccount.get(id=account.id)
    assert (row.address, row.login) == ("luis@gmail.com", "luis@gmail.com")
    assert (row.imap_host, row.imap_port, row.imap_security) == ("imap.gmail.com", 993, "tls")
    assert (row.smtp_host, row.smtp_port, row.smtp_security) == ("smtp.gmail.com", 465, "tls")
    assert row.server_saves_sent is True
    # The row holds no trace of the password; only the installation's key opens it.
    assert "abcd" not in row.password_encrypted and row.password_encrypted
    assert accounts.password_of(row, box) == "abcd efgh ijkl mnop"
    with pytest.raises(SecretUnreadable):
        accounts.password_of(row, SecretBox(Fernet.generate_key()))
    await asyncio.wait_for(hub_drained(hub), 5)
    assert seen == [MailAccountsChanged(account.id)]


async def hub_drained(hub):
    for sub in hub._subs:
        await sub.queue.join()


async def test_custom_servers_are_validated_field_by_field(world, box):
    bad = AccountInput(
        address="not-an-address",
        password="pw",
        imap_host="imap example.com",
        imap_port="99999",
        imap_security="ssl",
        smtp_host="",
        smtp_port="abc",
        smtp_security="starttls",
        first_sync_days="-1",
    )
    with pytest.raises(ValidationFailed) as err:
        await accounts.create_account(world.luis, bad, box=box)
    assert set(err.value.fields) == {
        "address",
        "imap_host",
        "imap_port",
        "imap_security",
        "smtp_host",
        "smtp_port",
        "first_sync_days",
    }
    assert err.value.fields["imap_security"] == "choose tls, starttls or none"
    with pytest.raises(ValidationFailed) as err:
        await accounts.create_account(world.luis, gmail(password=""), box=box)
    assert set(err.value.fields) == {"password"}
    with pytest.raises(ValidationFailed) as err:
        await accounts.create_account(world.luis, gmail(provider="hotmail.es"), box=box)
    assert set(err.value.fields) == {"provider"}
    with pytest.raises(ValidationFailed) as err:  # a NUL would make PostgreSQL fail
        await accounts.create_account(
            world.luis, gmail("lu\x00is@gmail.com", login="a\x00", signature="x\x1b"), box=box
        )
    assert set(err.value.fields) == {"address", "login", "signature"}
    assert await MailAccount.all().count() == 0

    ok = AccountInput(
        address="luis@example.com",
        password="pw",
        login="luis",
        imap_host="127.0.0.1",
        imap_port="1143",
        imap_security="none",
        smtp_host="Mail.Example.com",
        smtp_port=587,
        smtp_security="starttls",
        first_sync_days="7",
    )
    account = await accounts.create_account(world.luis, ok, box=box)
    assert (account.login, account.imap_port, account.smtp_host) == (
        "luis",
        1143,
        "mail.example.com",
    )
    assert account.server_saves_sent is False and account.first_sync_days == 7
    with pytest.raises(Conflict) as conflict:
        await accounts.create_account(world.luis, ok, box=box)
    assert conflict.value.field == "address"


async def test_at_most_twenty_mailboxes_in_the_company(world, box):
    for n in range(20):
        owner = (world.ana, world.luis, world.marta)[n % 3]
        await accounts.create_account(owner, gmail(f"user{n}@gmail.com"), box=box)
    with pytest.raises(Conflict) as err:
        await accounts.create_account(world.marta, gmail("one-more@gmail.com"), box=box)
    assert "20 mailboxes" in str(err.value) and "remove one" in str(err.value)
    assert await MailAccount.all().count() == 20
    first = await MailAccount.get(address="user0@gmail.com")
    await accounts.delete_account(world.ana, first.id)
    await accounts.create_account(world.marta, gmail("one-more@gmail.com"), box=box)


async def test_an_empty_password_on_edit_keeps_the_old_one(world, box):
    account = await accounts.create_account(world.luis, gmail(), box=box)
    await MailAccount.filter(id=account.id).update(last_error="login failed")
    edited = gmail(password="", signature="Luis\r\nAcme", leads_from_recipients=True)
    await accounts.update_account(world.luis, account.id, edited, box=box)
    row = await MailAccount.get(id=account.id)
    assert accounts.password_of(row, box) == "abcd efgh ijkl mnop"
    assert row.signature == "Luis\nAcme" and row.leads_from_recipients is True
    assert row.last_error == "login failed"  # nothing about the login changed
    await accounts.update_account(world.luis, account.id, gmail(password="new-one"), box=box)
    row = await MailAccount.get(id=account.id)
    assert accounts.password_of(row, box) == "new-one" and row.last_error == ""


async def test_owner_or_admin_manage_others_see_nothing(world, box):
    account = await accounts.create_account(world.luis, gmail(), box=box)
    # Marta (an agent) cannot see, edit, share or delete Luis's mailbox: it is "not found".
    for attempt in (
        accounts.managed_account(world.marta, account.id),
        accounts.update_account(world.marta, account.id, gmail(), box=box),
        accounts.delete_account(world.marta, account.id),
        accounts.set_shares(world.marta, account.id, [world.marta.id]),
        accounts.usable_account(world.marta, account.id),
    ):
        with pytest.raises(NotFound):
            await attempt
    with pytest.raises(PermissionDenied):
        await accounts.create_account(world.luis, gmail("x@gmail.com"), box=box, actor=world.marta)
    # Ana, the admin, manages it (but does not read it unless it is shared with her).
    assert [a.id for a in await accounts.accounts_managed_by(world.ana)] == [account.id]
    assert await accounts.accounts_managed_by(world.marta) == []
    with pytest.raises(NotFound):
        await accounts.usable_account(world.ana, account.id)
    await accounts.create_account(
        world.marta, gmail("ana-made@gmail.com"), box=box, actor=world.ana
    )
    assert [a.address for a in await accounts.accounts_managed_by(world.marta)] == [
        "ana-made@gmail.com"
    ]


async def test_sharing_with_chosen_users(world, box, hub):
    account = await accounts.create_account(world.luis, gmail(), box=box)
    await accounts.set_shares(world.luis, account.id, [world.marta.id, world.luis.id])
    assert await accounts.shared_user_ids(account) == [world.marta.id]  # not the owner
    assert [a.id for a in await accounts.accounts_usable_by(world.marta)] == [account.id]
    assert (await accounts.usable_account(world.marta, account.id)).id == account.id
    assert await accounts.accounts_usable_by(world.ana) == []

    inactive = await user_ops.create_user("old", "secret-pass-1", full_name="Old")
    await inactive.filter(id=inactive.id).update(is_active=False)
    with pytest.raises(ValidationFailed) as err:
        await accounts.set_shares(world.ana, account.id, [world.ana.id, inactive.id])
    assert set(err.value.fields) == {"shares"}
    assert await accounts.shared_user_ids(account) == [world.marta.id]

    await accounts.set_shares(world.ana, account.id, [world.ana.id])
    assert await accounts.shared_user_ids(account) == [world.ana.id]
    with pytest.raises(NotFound):
        await accounts.usable_account(world.marta, account.id)
    await accounts.set_shares(world.luis, account.id, [])
    assert await accounts.shared_user_ids(account) == []


async def test_exclusion_list(world):
    with pytest.raises(PermissionDenied):
        await exclusions.add_exclusion(world.luis, "@bank.es")
    await exclusions.add_exclusion(world.ana, " @Bank.ES ")
    await exclusions.add_exclusion(world.ana, "News@Shop.com")
    for bad in ("bank", "@", "@bank", "a b@c.com", "@ba nk.es", "", "a\x00@b.com", "@b\x00.com"):
        with pytest.raises(ValidationFailed) as err:
            await exclusions.add_exclusion(world.ana, bad)
        assert set(err.value.fields) == {"pattern"}
    with pytest.raises(Conflict):
        await exclusions.add_exclusion(world.ana, "@bank.es")
    patterns = await accounts.excluded_patterns()
    assert patterns == ["@bank.es", "news@shop.com"]
    assert accounts.is_excluded("Alerts@BANK.es", patterns)
    assert accounts.is_excluded("news@shop.com", patterns)
    assert not accounts.is_excluded("sales@shop.com", patterns)
    assert not accounts.is_excluded("x@mail.bank.es", patterns)
    assert not accounts.is_excluded("bank.es@other.com", patterns)
    row = (await exclusions.list_exclusions())[0]
    with pytest.raises(PermissionDenied):
        await exclusions.remove_exclusion(world.luis, row.id)
    await exclusions.remove_exclusion(world.ana, row.id)
    assert await accounts.excluded_patterns() == ["news@shop.com"]
    with pytest.raises(NotFound):
        await exclusions.remove_exclusion(world.ana, row.id)
