"""`centralita calendar sync [USER]`: the real CLI in a child process, against the local
Google, says what it created, updated and deleted on each side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet

from models.core.secret_box import SecretBox
from tests.daemon.test_cli_demo import cli_db, init_crm  # noqa: F401  (fixture)
from tests.daemon.test_cli_mail import cli
from tests.fakes.google_calendar import FakeGoogle

KEY = Fernet.generate_key().decode()


def google_env(google: FakeGoogle) -> dict[str, str]:
    return {
        "CENTRALITA_SECURITY__ENCRYPTION_KEY": KEY,
        "CENTRALITA_GOOGLE__CLIENT_ID": google.client_id,
        "CENTRALITA_GOOGLE__CLIENT_SECRET": google.client_secret,
        "CENTRALITA_GOOGLE__TOKEN_URI": google.token_uri,
        "CENTRALITA_GOOGLE__API_URL": google.base_url,
    }


async def test_calendar_sync_prints_what_changed_on_each_side(tmp_path, cli_db):  # noqa: F811
    url, query = cli_db
    await init_crm(tmp_path, url, "100")
    async with FakeGoogle() as google:
        email = "ana@acme.example"
        google.add_account(email)
        sealed = SecretBox(KEY.encode()).seal(google.issue_refresh_token(email))
        await query(
            "INSERT INTO google_calendar (user_id, google_email, refresh_token_sealed,"
            " calendar_id, calendar_name, push_to_google, pull_from_google, sync_token,"
            " connected_at, last_error, failures, needs_reconnect, channel_id,"
            " channel_resource_id, channel_token_hash)"
            f" SELECT id, '{email}', '{sealed}', '{email}', 'Ana', TRUE, TRUE, '',"
            " CURRENT_TIMESTAMP, '', 0, FALSE, '', '', '' FROM crm_user WHERE username = 'ana'"
        )
        start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
        google.insert_event(
            email,
            email,
            {
                "summary": "Visita al cliente",
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
            },
        )
        env = google_env(google)
        done = await cli(tmp_path, url, "calendar", "sync", "ana", env=env)
        assert done.returncode == 0, done.stderr
        assert "ana (Ana): in the CRM 1 created, 0 updated, 0 deleted; in Google 0 created" in (
            done.stdout
        )
        assert await query("SELECT title FROM task") == [("Visita al cliente",)]
        again = await cli(tmp_path, url, "calendar", "sync", env=env)
        assert "in the CRM 0 created, 0 updated, 0 deleted; in Google 0 created, 0 updated" in (
            again.stdout
        )
        unknown = await cli(tmp_path, url, "calendar", "sync", "nadie", env=env)
        assert unknown.returncode == 2 and "no user named 'nadie'" in unknown.stderr
    off = await cli(tmp_path, url, "calendar", "sync")
    assert off.returncode == 2
    assert "[google] client_id and client_secret are not set" in off.stderr
