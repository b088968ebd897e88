"""Schema migrations: an existing database is upgraded without losing data, on both databases.

Each scenario runs in a subprocess because Tortoise keeps one global configuration per
process and this test needs a database of its own beside the suite's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import _pg_admin_dsn

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = sorted(p.stem for p in (REPO / "models" / "migrations").glob("0*.py"))

SCENARIO = r"""
import asyncio, json, sys
from tortoise import Tortoise, connections
from models.core.db import migrate, tortoise_config

url, first = sys.argv[1], sys.argv[2]

async def main():
    out = {"first": await migrate(url, target=first)}
    await Tortoise.init(config=tortoise_config(url))
    conn = connections.get("default")
    await conn.execute_query(
        "INSERT INTO company (name, default_currency, extra_currencies, default_region, created_at)"
        " VALUES ('Acme', 'EUR', '[]', 'ES', CURRENT_TIMESTAMP)"
    )
    await conn.execute_query(
        "INSERT INTO client (name, name_key, status, type, company_name, created_at, updated_at)"
        " VALUES ('José Núñez', 'jose nunez', 'active', 'person', '', CURRENT_TIMESTAMP,"
        " CURRENT_TIMESTAMP)"
    )
    await conn.execute_query(
        "INSERT INTO timeline_entry (client_id, kind, summary, at)"
        " SELECT id, 'client', 'Client created: José Núñez', CURRENT_TIMESTAMP FROM client"
    )
    await Tortoise.close_connections()
    out["rest"] = await migrate(url)
    out["again"] = await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    from models.schema.clients import Client
    from models.schema.company import Company
    from models.schema.activity import TimelineEntry
    out["clients"] = [c.name for c in await Client.all()]
    out["timeline"] = [[e.summary, e.detail] for e in await TimelineEntry.all()]
    out["company"] = (await Company.first()).name
    await Tortoise.close_connections()
    print(json.dumps(out))

asyncio.run(main())
"""


def _run(url: str) -> dict:
    return _run_scenario(SCENARIO, url, MIGRATIONS[0])


def _run_scenario(scenario: str, url: str, first: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-c", scenario, url, first],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
async def fresh_url(tmp_path):
    choice = os.environ.get("CENTRALITA_TEST_DB", "sqlite")
    if choice == "sqlite":
        yield f"sqlite://{tmp_path / 'upgrade.sqlite3'}"
        return
    name = f"centralita_mig_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_pg_admin_dsn(choice))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield f"{choice.rsplit('/', 1)[0]}/{name}"
    admin = await asyncpg.connect(_pg_admin_dsn(choice))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def test_there_is_an_upgrade_path_to_test():
    assert len(MIGRATIONS) >= 2, "the schema has a first release and at least one upgrade"


async def test_upgrade_from_the_first_release_keeps_the_data(fresh_url):
    result = _run(fresh_url)
    assert result["first"] == [MIGRATIONS[0]]
    assert result["rest"] == MIGRATIONS[1:]
    assert result["again"] == []  # nothing pending: applying twice is harmless
    assert result["clients"] == ["José Núñez"]
    assert result["company"] == "Acme"
    # An entry from before 0004 keeps its sentence and has no data: it is shown as written.
    assert result["timeline"] == [["Client created: José Núñez", {}]]


SEARCH_SCENARIO = r"""
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as migrate_api
from models.core.db import migrate, tortoise_config

url, before = sys.argv[1], sys.argv[2]
QUERIES = ["ptica", "NÚÑ", "jose.nu", "jo", "erez"]


async def found():
    from models.contacts.client_search import text_filter
    from models.schema.clients import Client

    return {q: await Client.filter(text_filter(q)).values_list("name", flat=True) for q in QUERIES}


async def main():
    out = {}
    await migrate(url, target=before)
    await Tortoise.init(config=tortoise_config(url))
    conn = connections.get("default")
    await conn.execute_query(
        "INSERT INTO client (name, name_key, status, type, company_name, created_at, updated_at)"
        " VALUES ('José Núñez', 'jose nunez', 'active', 'person', 'Óptica Núñez',"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    await conn.execute_query(
        "INSERT INTO email (address, position, client_id) SELECT 'jose.nunez@optica.es', 0, id"
        " FROM client"
    )
    await conn.execute_query(
        "INSERT INTO client_word (word, client_id) SELECT w, id FROM client,"
        " (SELECT 'jose' AS w UNION ALL SELECT 'nunez' UNION ALL SELECT 'optica') AS words"
    )
    await Tortoise.close_connections()
    out["up"] = await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    out["found"] = await found()
    # A client written after the upgrade is found too (the triggers or indexes follow it).
    await connections.get("default").execute_query(
        "INSERT INTO client (name, name_key, status, type, company_name, company_key,"
        " created_at, updated_at) VALUES ('Ana Pérez', 'ana perez', 'active', 'person', '', '',"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    out["found_new"] = await found()
    await Tortoise.close_connections()
    await migrate_api(config=tortoise_config(url), target="crm." + before)
    await Tortoise.init(config=tortoise_config(url))
    rows = await connections.get("default").execute_query_dict(
        "SELECT c.name AS name, w.word AS word FROM client_word w"
        " JOIN client c ON c.id = w.client_id ORDER BY c.name, w.word"
    )
    out["words_after_downgrade"] = [[r["name"], r["word"]] for r in rows]
    rows = await connections.get("default").execute_query_dict("SELECT address FROM email")
    out["emails_after_downgrade"] = [r["address"] for r in rows]
    await Tortoise.close_connections()
    out["up_again"] = await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    out["found_again"] = await found()
    await Tortoise.close_connections()
    print(json.dumps(out))

asyncio.run(main())
"""


async def test_text_search_upgrade_fills_the_index_and_downgrade_restores_the_word_table(
    fresh_url,
):
    search = next(m for m in MIGRATIONS if m.endswith("_client_text_search"))
    before = MIGRATIONS[MIGRATIONS.index(search) - 1]
    result = _run_scenario(SEARCH_SCENARIO, fresh_url, before)
    assert result["up"][0] == search
    jose = ["José Núñez"]
    # A part of the company, of the name (accents and case aside), of the email; a short
    # text finds names starting with it.
    expected = {"ptica": jose, "NÚÑ": jose, "jose.nu": jose, "jo": jose, "erez": []}
    assert result["found"] == expected
    assert result["found_new"] == {**expected, "erez": ["Ana Pérez"]}
    assert result["words_after_downgrade"] == [
        ["Ana Pérez", "ana"],
        ["Ana Pérez", "perez"],
        ["José Núñez", "jose"],
        ["José Núñez", "nunez"],
        ["José Núñez", "optica"],
    ]
    assert result["emails_after_downgrade"] == ["jose.nunez@optica.es"]
    assert result["up_again"][0] == search
    assert result["found_again"] == result["found_new"]
