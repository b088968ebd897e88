"""Migration 0009 (lead text search): leads written before it are found by parts of their
name and company after it, new ones too, and going back removes the index cleanly."""

from __future__ import annotations

from tests.models.test_migrations import MIGRATIONS, _run_scenario, fresh_url  # noqa: F401

SCENARIO = r"""
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as migrate_api
from models.core.db import migrate, tortoise_config

url, before = sys.argv[1], sys.argv[2]
QUERIES = ["ptica", "NÚÑ", "jose.nu", "jo", "erez"]


async def found():
    from models.contacts.client_search import LEADS, text_filter
    from models.schema.leads import Lead

    return {
        q: sorted(await Lead.filter(text_filter(q, LEADS)).values_list("name", flat=True))
        for q in QUERIES
    }


async def main():
    out = {}
    await migrate(url, target=before)
    await Tortoise.init(config=tortoise_config(url))
    conn = connections.get("default")
    await conn.execute_query(
        "INSERT INTO lead (name, name_key, company_name, status, source, utm_source,"
        " utm_medium, utm_campaign, utm_term, utm_content, created_at, updated_at)"
        " VALUES ('José Núñez', 'jose nunez', 'Óptica Núñez', 'open', 'manual', '', '', '',"
        " '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    await conn.execute_query(
        "INSERT INTO email (address, position, lead_id) SELECT 'jose.nunez@optica.es', 0, id"
        " FROM lead"
    )
    await Tortoise.close_connections()
    out["up"] = await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    out["found"] = await found()
    await connections.get("default").execute_query(
        "INSERT INTO lead (name, name_key, company_name, company_key, status, source,"
        " utm_source, utm_medium, utm_campaign, utm_term, utm_content, created_at, updated_at)"
        " VALUES ('Ana Pérez', 'ana perez', 'Pérez e Hijos', 'perez e hijos', 'open', 'manual',"
        " '', '', '', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    out["found_new"] = await found()
    await Tortoise.close_connections()
    await migrate_api(config=tortoise_config(url), target="crm." + before)
    await Tortoise.init(config=tortoise_config(url))
    conn = connections.get("default")
    rows = await conn.execute_query_dict("SELECT name FROM lead ORDER BY name")
    out["leads_after_downgrade"] = [r["name"] for r in rows]
    await Tortoise.close_connections()
    out["up_again"] = await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    out["found_again"] = await found()
    await Tortoise.close_connections()
    print(json.dumps(out))

asyncio.run(main())
"""


async def test_lead_search_upgrade_fills_the_index_and_downgrade_leaves_the_leads(
    fresh_url,  # noqa: F811
):
    search = next(m for m in MIGRATIONS if m.endswith("_lead_text_search"))
    before = MIGRATIONS[MIGRATIONS.index(search) - 1]
    result = _run_scenario(SCENARIO, fresh_url, before)
    assert result["up"][0] == search
    jose = ["José Núñez"]
    # A part of the company, of the name (accents and case aside), of the email; a short
    # text finds names starting with it.
    expected = {"ptica": jose, "NÚÑ": jose, "jose.nu": jose, "jo": jose, "erez": []}
    assert result["found"] == expected
    assert result["found_new"] == {**expected, "erez": ["Ana Pérez"]}
    assert result["leads_after_downgrade"] == ["Ana Pérez", "José Núñez"]
    assert result["up_again"][0] == search
    assert result["found_again"] == result["found_new"]
