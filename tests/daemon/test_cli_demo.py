"""`centralita demo-data` end to end: the real CLI in a child process, on a database of its own.

A child process because the command opens and closes Tortoise for itself, which must not
touch the test session's connections. The database URL comes from the environment
(CENTRALITA_DATABASE__URL), as an operator would override it.
"""

import asyncio
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

REPO = Path(__file__).resolve().parents[2]
RUN_MAIN = "import sys; from daemon.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture
async def cli_db(tmp_path):
    """(URL, query function) of an empty database of the same kind the suite runs on."""
    choice = os.environ.get("CENTRALITA_TEST_DB", "sqlite")
    if choice == "sqlite":
        path = tmp_path / "cli.sqlite3"

        async def query(sql: str) -> list[tuple]:
            with sqlite3.connect(path) as conn:
                return conn.execute(sql).fetchall()

        yield f"sqlite://{path}", query
        return
    admin_dsn = choice.replace("postgres://", "postgresql://", 1)
    name = f"centralita_cli_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"{choice.rsplit('/', 1)[0]}/{name}"

    async def query(sql: str) -> list[tuple]:
        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    yield url, query
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def centralita(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    # Only our override: the suite's own CENTRALITA_TEST_DB is not a configuration key.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_")}
    env.update({"CENTRALITA_DATABASE__URL": url, "PYTHONPATH": str(REPO)})
    return subprocess.run(
        [sys.executable, "-c", RUN_MAIN, "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


async def init_crm(tmp_path: Path, url: str, extension: str = "101") -> None:
    """`centralita init` of the Acme CRM with the admin ana (password ana-pass-1234)."""
    done = await asyncio.to_thread(
        centralita, tmp_path, url, "init", "--name", "Acme", "--admin", "ana",
        "--password", "ana-pass-1234", "--extension", extension,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


async def test_demo_data_fills_a_fresh_database(tmp_path, cli_db):
    url, query = cli_db
    done = centralita(
        tmp_path, url, "demo-data", "--clients", "200", "--deals", "90", "--seed", "5"
    )
    assert done.returncode == 0, done.stderr
    assert "clients: 200/200" in done.stderr
    assert "demo agent sofia.ruiz created with password " in done.stdout
    assert await query("SELECT COUNT(*) FROM client") == [(200,)]
    assert await query("SELECT COUNT(*) FROM deal") == [(90,)]
    assert await query("SELECT COUNT(*) FROM call") == [(200,)]
    phones = (await query("SELECT COUNT(*) FROM phone WHERE client_id IS NOT NULL"))[0][0]
    assert 260 <= phones <= 340
    currencies = {row[0] for row in await query("SELECT DISTINCT currency FROM deal")}
    assert currencies <= {"EUR", "USD", "GBP"} and len(currencies) > 1
    # The demo agents can log in with the printed password.
    line = next(x for x in done.stdout.splitlines() if "sofia.ruiz" in x)
    password = line.rsplit(" ", 1)[1]
    check = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", LOGIN_CHECK, url, "sofia.ruiz", password],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert check.stdout.strip() == "ok", check.stderr

    again = await asyncio.to_thread(
        centralita, tmp_path, url, "demo-data", "--clients", "50", "--quiet"
    )
    assert again.returncode == 0, again.stderr
    assert again.stderr == "" and "demo agent" not in again.stdout
    assert await query("SELECT COUNT(*) FROM client") == [(250,)]
    dupes = await query(
        "SELECT e164 FROM phone WHERE e164 IS NOT NULL GROUP BY e164 HAVING COUNT(*) > 1"
    )
    assert dupes == []


LOGIN_CHECK = """
import asyncio, sys
from models.core.db import open_db, close_db
from models.people.users import authenticate
async def main(url, username, password):
    await open_db(url)
    try:
        await authenticate(username, password)
        print("ok")
    finally:
        await close_db()
asyncio.run(main(*sys.argv[1:]))
"""


def test_bad_counts_are_refused(tmp_path):
    url = f"sqlite://{tmp_path / 'x.sqlite3'}"
    done = centralita(tmp_path, url, "demo-data", "--clients", "0")
    assert done.returncode == 2
    assert "--clients: expected between 1 and 5,000,000" in done.stderr
    assert "Traceback" not in done.stderr
    done = centralita(tmp_path, url, "demo-data", "--clients", "many")
    assert done.returncode == 2 and "expected a whole number" in done.stderr
    done = centralita(tmp_path, url, "demo-data")
    assert done.returncode == 2 and "--clients" in done.stderr
