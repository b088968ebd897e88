"""`centralita mail add | list | sync` end to end: the real CLI in a child process, against a
real Dovecot for the sync. The password travels only by CENTRALITA_MAIL_PASSWORD or stdin."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.daemon.test_cli_demo import REPO, RUN_MAIN, cli_db  # noqa: F401  (fixture)
from tests.dovecot import dovecot_installed, start_dovecot

SECRET = "cli-app-pass-3391"


def run(tmp_path: Path, url: str, *args: str, stdin: str = "", env: dict | None = None):
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_")}
    environ.update({"CENTRALITA_DATABASE__URL": url, "PYTHONPATH": str(REPO), **(env or {})})
    return subprocess.run(
        [sys.executable, "-c", RUN_MAIN, "--config", str(config), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        timeout=120,
    )


async def cli(tmp_path, url, *args, **options):
    return await asyncio.to_thread(run, tmp_path, url, *args, **options)


@pytest.fixture(scope="module")
def dovecot():
    if not dovecot_installed():
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot is missing in CI: install Debian's dovecot-imapd")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    server = start_dovecot()
    yield server
    server.stop()
    server.cleanup()


def _mail(sender: str, to: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@cli.test>"
    message["Date"] = "Mon, 07 Dec 2026 08:00:00 +0000"
    message.set_content("Hola, quiero información.")
    return message.as_bytes()


async def test_add_sync_and_list(tmp_path, cli_db, dovecot):  # noqa: F811
    """One database for the whole story (each command is a process of its own: keep them few)."""
    url, query = cli_db
    added = await cli(tmp_path, url, "user", "add", "luis", "--password", "x-pass-1")
    assert added.returncode == 0, added.stderr
    login, password = dovecot.new_user("luis")
    dovecot.deliver(login, _mail("Eva Soto <eva@cliente.es>", login, "Presupuesto"))
    imap = f"127.0.0.1:{dovecot.tls_port}"
    servers = ("--imap", imap, "--smtp", "127.0.0.1:1", "--security", "tls")

    # The password from the environment...
    added = await cli(
        tmp_path,
        url,
        *("mail", "add", "luis", "--address", login.upper(), *servers),
        env={"CENTRALITA_MAIL_PASSWORD": password},
    )
    assert added.returncode == 0, added.stderr
    assert f"{login} added for luis: IMAP {imap} (tls), SMTP 127.0.0.1:1 (tls)" in added.stdout
    # ... or from standard input (here a wrong one, and its own SMTP mode).
    wrong = await cli(
        tmp_path,
        url,
        *("mail", "add", "luis", "--address", "other@mail.test", "--login", login, *servers),
        *("--smtp-security", "starttls"),
        stdin="not-the-password\n",
    )
    assert wrong.returncode == 0, wrong.stderr
    assert "SMTP 127.0.0.1:1 (starttls)" in wrong.stdout
    rows = await query("SELECT address, login, password_encrypted FROM mail_account ORDER BY id")
    assert [r[:2] for r in rows] == [(login, login), ("other@mail.test", login)]
    assert all(password not in r[2] and "not-the-password" not in r[2] for r in rows)
    assert (tmp_path / "data" / "encryption_key").stat().st_mode & 0o077 == 0

    missing = await cli(tmp_path, url, "mail", "add", "luis", "--address", "x@a.es", stdin="pw")
    assert missing.returncode == 2 and "give --imap HOST:PORT" in missing.stderr
    bad = await cli(
        tmp_path, url, "mail", "add", "luis", "--address", "bad", "--preset", "gmail", stdin="pw"
    )
    assert bad.returncode == 2 and "address: not an email address" in bad.stderr

    # One sync: the good mailbox says what it did; the refused one fails the command.
    cert = {"SSL_CERT_FILE": str(dovecot.root / "cert.pem")}  # trust the test server
    synced = await cli(tmp_path, url, "mail", "sync", "luis", env=cert)
    assert synced.returncode == 1
    said = "fetched 1, on a client's or lead's timeline 1 (new leads 1), skipped 0"
    assert f"{login}: {said}" in synced.stdout
    assert "other@mail.test: failed:" in synced.stderr
    assert "not-the-password" not in synced.stdout + synced.stderr
    assert await query("SELECT name, source FROM lead") == [("Eva Soto", "email")]

    listed = await cli(tmp_path, url, "mail", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"{imap}/tls" in listed.stdout and "error:" in listed.stdout
    assert password not in listed.stdout + listed.stderr
