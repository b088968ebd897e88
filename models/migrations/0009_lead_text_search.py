import re
import unicodedata

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Lead search on the database's trigram search, as 0005 made it for clients:
# - lead.company_key: the company name lower-case without accents (lead.name_key is the
#   name's), filled here from the existing rows;
# - SQLite: an FTS5 table with the trigram tokenizer over lead (name_key, company_key),
#   external content kept by triggers, built here from the existing rows (the emails of
#   leads are in 0005's email_search already);
# - PostgreSQL: pg_trgm GIN indexes on the same two columns (LIKE '%part%' uses them).
# Written out here, not imported, so that this migration stays as it was released.

_SPACES = re.compile(r"\s+")
_BATCH = 5000
_FTS = "lead_search"
_COLUMNS = ("name_key", "company_key")
_TRGM = {
    "idx_lead_name_key_trgm": "name_key",
    "idx_lead_company_key_trgm": "company_key",
}


def _key(text: str) -> str:
    """Lower-case, accents removed, spaces collapsed (models/contacts/search_text.search_key)."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _SPACES.sub(" ", text).strip().lower()


def _sqlite_statements() -> list[str]:
    names = ", ".join(_COLUMNS)
    new = ", ".join(f"NEW.{c}" for c in _COLUMNS)
    old = ", ".join(f"OLD.{c}" for c in _COLUMNS)
    add = f"INSERT INTO {_FTS} (rowid, {names}) VALUES (NEW.id, {new});"
    remove = f"INSERT INTO {_FTS} ({_FTS}, rowid, {names}) VALUES ('delete', OLD.id, {old});"
    return [
        f"CREATE VIRTUAL TABLE {_FTS} USING fts5({names}, content='lead', "
        "content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {_FTS}_insert AFTER INSERT ON lead BEGIN {add} END",
        f"CREATE TRIGGER {_FTS}_delete AFTER DELETE ON lead BEGIN {remove} END",
        f"CREATE TRIGGER {_FTS}_update AFTER UPDATE OF {names} ON lead BEGIN {remove} {add} END",
        f"INSERT INTO {_FTS} ({_FTS}) VALUES ('rebuild')",
    ]


def _pg_statements() -> list[str]:
    indexes = [
        f'CREATE INDEX "{name}" ON "lead" USING gin ("{column}" gin_trgm_ops)'
        for name, column in _TRGM.items()
    ]
    return ["CREATE EXTENSION IF NOT EXISTS pg_trgm", *indexes, "ANALYZE lead (company_key)"]


async def _fill_company_keys(client) -> None:
    postgres = client.capabilities.dialect == "postgres"
    sql = (
        "UPDATE lead SET company_key = $1 WHERE id = $2"
        if postgres
        else "UPDATE lead SET company_key = ? WHERE id = ?"
    )
    last_id = 0
    while True:
        rows = await client.execute_query_dict(
            "SELECT id, company_name FROM lead WHERE id > "
            f"{int(last_id)} AND company_name <> '' ORDER BY id LIMIT {_BATCH}"
        )
        if not rows:
            return
        await client.execute_many(sql, [[_key(r["company_name"])[:200], r["id"]] for r in rows])
        last_id = rows[-1]["id"]


async def _install(apps, schema_editor) -> None:
    client = schema_editor.client
    # Before the FTS table is built, so that it indexes the filled keys.
    await _fill_company_keys(client)
    postgres = client.capabilities.dialect == "postgres"
    for statement in _pg_statements() if postgres else _sqlite_statements():
        await client.execute_script(statement)


async def _uninstall(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        statements = [f'DROP INDEX "{name}"' for name in _TRGM]
    else:
        statements = [f"DROP TRIGGER {_FTS}_{e}" for e in ("insert", "delete", "update")]
        statements.append(f"DROP TABLE {_FTS}")
    for statement in statements:
        await client.execute_script(statement)


class _AddCompanyKey(ops.AddField):
    """Going back drops the column in place: Tortoise remakes a SQLite table to drop a column,
    and dropping the old lead table would cascade to its phones, emails and timeline."""

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None:
            await state_editor.client.execute_script(
                f'ALTER TABLE "lead" DROP COLUMN "{self.name}"'
            )


class Migration(migrations.Migration):
    dependencies = [("crm", "0008_chat_dialog")]

    initial = False

    operations = [
        _AddCompanyKey(
            model_name="Lead",
            name="company_key",
            field=fields.CharField(default="", db_default="", max_length=200),
        ),
        ops.RunPython(_install, _uninstall),
    ]
