"""Receiving mail (issue 16) from a real Dovecot: the first sync takes only the last N days,
a sync again fetches nothing twice, the sent folder comes along, a renumbered folder
(UIDVALIDITY) doubles nothing, a message too big is skipped and the next one stored, and a
sync with nothing new costs a handful of IMAP commands. Nothing is marked as read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from daemon.mail_imap import MailServerError
from daemon.mail_sync import sync_account_once
from models.core.clock import SystemClock
from models.core.events import MailSkipped
from models.schema.activity import EmailMessage
from models.schema.mail import MailAccount, MailFolderState
from tests.daemon.mail_sync_world import message, new_box, new_mailbox, sync_settings


@pytest.fixture
def box():
    return new_box()


@pytest.fixture
def sync(tmp_path, box, hub):
    """sync(account, **[mail] settings) -> SyncReport: one sync now, as `mail sync` does."""

    async def run(account, **mail):
        return await sync_account_once(
            account.id,
            settings=sync_settings(tmp_path, **mail),
            box=box,
            clock=SystemClock(),
            hub=hub,
            files_dir=tmp_path / "mail",
        )

    return run


async def subjects(account) -> list[str]:
    rows = await EmailMessage.filter(account_id=account.id).order_by("subject")
    return [row.subject for row in rows]


def unread(dovecot, login: str, folder: str = "INBOX") -> int:
    found = dovecot.doveadm("search", "-u", login, "mailbox", folder, "UNSEEN")
    return len(found.split("\n")) - 1 if found.strip() else 0


async def test_first_sync_takes_the_window_then_only_what_is_new(world, dovecot, box, sync):
    account, login = await new_mailbox(dovecot, world.luis, box, first_sync_days=30)
    now = datetime.now(UTC)
    dovecot.fill(
        login,
        [message("Old offer", sent=now - timedelta(days=45))],
        received_at=now - timedelta(days=45),
    )
    dovecot.fill(
        login,
        [message("Last week's question", sent=now - timedelta(days=7))],
        received_at=now - timedelta(days=7),
    )
    dovecot.deliver(login, message("Today's order"))
    dovecot.deliver(
        login, message("Our proposal", sender=login, to="carmen@cliente.test"), folder="Sent"
    )

    report = await sync(account)

    assert report.folders == ["Sent", "INBOX"]
    assert report.fetched == 3
    assert await subjects(account) == ["Last week's question", "Our proposal", "Today's order"]
    sent = await EmailMessage.get(account_id=account.id, subject="Our proposal")
    received = await EmailMessage.get(account_id=account.id, subject="Today's order")
    assert (sent.direction, sent.folder) == ("out", "Sent")
    assert (received.direction, received.folder, received.sender) == (
        "in",
        "INBOX",
        "carmen@cliente.test",
    )
    account = await MailAccount.get(id=account.id)
    assert account.sent_folder == "Sent" and account.last_error == ""
    assert account.last_sync_at is not None
    assert unread(dovecot, login) == 3  # the user still sees their mail as unread

    again = await sync(account)  # a restart: a new session, the same database
    assert (again.fetched, again.skipped) == (0, 0)
    assert len(await subjects(account)) == 3

    dovecot.deliver(login, message("A new lead writes"))
    dovecot.fill(
        login,
        [message("Delayed old mail", sent=now - timedelta(days=60))],
        received_at=now - timedelta(days=60),
    )
    third = await sync(account)
    # Whatever arrived since the last sync is taken, whatever its date.
    assert third.fetched == 2
    assert "A new lead writes" in await subjects(account)
    assert "Old offer" not in await subjects(account)


async def test_nothing_new_costs_a_handful_of_imap_commands(world, dovecot, box, sync):
    account, login = await new_mailbox(dovecot, world.luis, box)
    dovecot.deliver(login, message("First"))
    await sync(account)

    quiet = await sync(account)

    assert quiet.fetched == 0
    # LOGIN, SELECT Sent, SELECT INBOX, LOGOUT: UIDNEXT answers without SEARCH or FETCH.
    assert quiet.imap_commands <= 4


async def test_a_renumbered_folder_doubles_nothing(world, dovecot, box, sync):
    account, login = await new_mailbox(dovecot, world.luis, box)
    dovecot.deliver(login, message("Before one"))
    dovecot.deliver(login, message("Before two"))
    await sync(account)
    before = await MailFolderState.get(account_id=account.id, name="INBOX")

    dovecot.set_uidvalidity(login, "INBOX", before.uidvalidity + 1000)
    dovecot.deliver(login, message("After"))
    report = await sync(account)

    assert await subjects(account) == ["After", "Before one", "Before two"]
    assert await EmailMessage.filter(account_id=account.id).count() == 3
    after = await MailFolderState.get(account_id=account.id, name="INBOX")
    assert after.uidvalidity == before.uidvalidity + 1000
    assert report.fetched == 3  # the window again: known messages are recognised, not doubled
    assert (await sync(account)).fetched == 0


async def test_a_message_too_big_is_skipped_and_the_next_one_stored(world, dovecot, box, sync, hub):
    account, login = await new_mailbox(dovecot, world.luis, box)
    notices: list[MailSkipped] = []

    async def keep(event):
        notices.append(event)

    hub.subscribe("test-skipped", keep, MailSkipped)
    dovecot.deliver(login, message("Huge scan", padding=300_000))
    dovecot.deliver(login, message("Small reply"))

    report = await sync(account, max_message_mb=0.1)
    await hub.drain()

    assert await subjects(account) == ["Small reply"]
    assert report.skipped == 1
    assert [(n.account_id, n.reason) for n in notices] == [(account.id, "too_big")]
    assert notices[0].size > 300_000
    assert world.luis.id in notices[0].user_ids
    # Not tried again at every sync: the folder moved past it.
    assert (await sync(account, max_message_mb=0.1)).skipped == 0


async def test_a_wrong_password_is_kept_in_words_without_the_password(world, dovecot, box, sync):
    account, _login = await new_mailbox(dovecot, world.luis, box, password="Wr0ng-Pa55")

    with pytest.raises(MailServerError) as caught:
        await sync(account)

    assert caught.value.kind == "auth"
    account = await MailAccount.get(id=account.id)
    assert "Authentication failed" in account.last_error
    assert "Wr0ng-Pa55" not in account.last_error
    assert account.last_sync_at is None
