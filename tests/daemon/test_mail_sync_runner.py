"""The mail sync while the daemon runs: IDLE brings new mail at once, a mailbox with a wrong
password never stops the others, and a mailbox changed in the panel is picked up."""

from __future__ import annotations

import asyncio

import pytest

from daemon.mail_sync import MailSyncRunner
from daemon.scheduler import Scheduler
from daemon.supervisor import Supervisor
from models.core.clock import SystemClock
from models.core.events import MailAccountsChanged
from models.schema.activity import EmailMessage
from models.schema.mail import MailAccount
from tests.daemon.mail_sync_world import message, new_box, new_mailbox, sync_settings
from tests.dovecot import start_dovecot


@pytest.fixture
def box():
    return new_box()


@pytest.fixture
async def start_runner(tmp_path, box, hub):
    """start(**[mail] settings) -> a started MailSyncRunner (stopped after the test)."""
    started = []

    async def start(**mail):
        supervisor, scheduler = Supervisor(), Scheduler()
        scheduler.start()
        settings = sync_settings(tmp_path, **mail)
        running = MailSyncRunner(settings, box, SystemClock(), hub, supervisor, scheduler)
        started.append((running, supervisor, scheduler))
        await running.start()
        return running

    yield start
    for running, supervisor, scheduler in started:
        async with asyncio.timeout(30):  # a stop that hangs fails here, not in a later test
            await running.stop()
            await supervisor.stop()
            await scheduler.stop()
        assert running.accounts == []


@pytest.fixture(scope="module")
def dovecot_without_idle():
    """A Dovecot that does not announce IDLE: its mailboxes are polled."""
    server = start_dovecot(idle=False)
    yield server
    server.cleanup()


async def test_idle_brings_new_mail_at_once(world, dovecot, box, start_runner):
    account, login = await new_mailbox(dovecot, world.luis, box)
    dovecot.deliver(login, message("Waiting in the inbox"))
    runner = await start_runner()
    async with asyncio.timeout(15):
        await runner.wait_until(lambda: runner.cycles[account.id] >= 1)
        await runner.wait_idling(account.id)
    assert await EmailMessage.filter(account_id=account.id).count() == 1

    dovecot.deliver(login, message("Arrives during IDLE"))
    async with asyncio.timeout(15):  # the poll would come only after 10 minutes
        await runner.wait_until(lambda: runner.cycles[account.id] >= 2)

    assert await EmailMessage.exists(account_id=account.id, subject="Arrives during IDLE")
    account = await MailAccount.get(id=account.id)
    assert account.idle_supported is True and account.last_error == ""


async def test_a_wrong_password_never_stops_the_other_mailboxes(world, dovecot, box, start_runner):
    broken, _ = await new_mailbox(dovecot, world.marta, box, password="n0t-her-pa55")
    good, login = await new_mailbox(dovecot, world.luis, box)
    dovecot.deliver(login, message("For Luis"))

    runner = await start_runner()
    async with asyncio.timeout(15):
        await runner.wait_until(
            lambda: runner.failures[broken.id] >= 1 and runner.cycles[good.id] >= 1
        )
        await runner.wait_idling(good.id)

    broken = await MailAccount.get(id=broken.id)
    assert "Authentication failed" in broken.last_error
    assert "n0t-her-pa55" not in broken.last_error
    assert await EmailMessage.exists(account_id=good.id, subject="For Luis")
    dovecot.deliver(login, message("Still arriving"))
    async with asyncio.timeout(15):
        await runner.wait_until(lambda: runner.cycles[good.id] >= 2)
    assert await EmailMessage.exists(account_id=good.id, subject="Still arriving")


async def test_a_mailbox_changed_in_the_panel_is_picked_up(world, dovecot, box, start_runner, hub):
    runner = await start_runner()
    account, login = await new_mailbox(dovecot, world.luis, box)
    dovecot.deliver(login, message("Before connecting"))

    hub.publish(MailAccountsChanged(account.id))  # as the panel does after adding it
    async with asyncio.timeout(15):
        await runner.wait_until(lambda: runner.cycles[account.id] >= 1)
    assert await EmailMessage.exists(account_id=account.id, subject="Before connecting")
    assert runner.accounts == [account.id]

    await MailAccount.filter(id=account.id).update(enabled=False)
    hub.publish(MailAccountsChanged(account.id))
    await hub.drain()
    assert account.id not in runner.accounts


async def test_a_server_without_idle_is_polled(world, dovecot_without_idle, box, start_runner):
    server = dovecot_without_idle
    account, login = await new_mailbox(server, world.luis, box)
    server.deliver(login, message("Found by the first sync"))

    runner = await start_runner(poll_minutes=0.01)  # every 0.6 s instead of 10 minutes
    async with asyncio.timeout(15):
        await runner.wait_until(lambda: runner.cycles[account.id] >= 1)
    account = await MailAccount.get(id=account.id)
    assert account.idle_supported is False
    assert await EmailMessage.exists(account_id=account.id, subject="Found by the first sync")

    server.deliver(login, message("Found by the poll"))
    seen = runner.cycles[account.id]  # a poll under way may have looked before the delivery
    async with asyncio.timeout(15):
        await runner.wait_until(lambda: runner.cycles[account.id] >= seen + 2)
    assert await EmailMessage.exists(account_id=account.id, subject="Found by the poll")


async def test_the_daemon_keeps_the_mailboxes_in_sync(world, dovecot, tmp_path, database):
    from daemon import app as root
    from models.core.secret_box import secret_box_for
    from models.core.settings import Settings

    settings = Settings.model_validate(
        {
            "data_dir": str(tmp_path),
            "database": {"url": database},
            "web": {"port": 0},
            "ami": {"simulator_demo": False},
        }
    )
    box = secret_box_for("", tmp_path)  # the key the daemon generates into data_dir
    account, login = await new_mailbox(dovecot, world.ana, box)
    dovecot.deliver(login, message("Seen by the running daemon"))

    rt = await root.start(settings, simulator_speed=50, open_database=False)
    try:
        async with asyncio.timeout(15):
            await rt.mail_sync.wait_until(lambda: rt.mail_sync.cycles[account.id] >= 1)
        assert await EmailMessage.exists(
            account_id=account.id, subject="Seen by the running daemon"
        )
        assert (tmp_path / "mail").stat().st_mode & 0o077 == 0  # attachments: private folder
    finally:
        await root.stop(rt)
    assert rt.mail_sync.accounts == []


async def test_a_mailbox_added_by_another_process_is_picked_up(world, dovecot, box, start_runner):
    """`centralita mail add` runs in its own process: no hub event reaches the daemon, so the
    runner's scheduled pick-up finds the new mailbox, and one removed is stopped."""
    runner = await start_runner()
    assert "mail-accounts" in runner._scheduler.job_names
    account, login = await new_mailbox(dovecot, world.luis, box)  # written straight to the table
    dovecot.deliver(login, message("Added from the command line"))
    await runner.pick_up()  # what the scheduled job runs
    async with asyncio.timeout(15):
        await runner.wait_until(lambda: runner.cycles[account.id] >= 1)
    assert await EmailMessage.exists(account_id=account.id, subject="Added from the command line")

    await MailAccount.filter(id=account.id).delete()
    await runner.pick_up()
    assert runner.accounts == []
