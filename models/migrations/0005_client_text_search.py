import re
import unicodedata

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Client search on the database's own trigram search instead of the hand-made word table:
# - client.company_key: the company name lower-case without accents (client.name_key is the
#   name's), filled here from the existing rows;
# - SQLite: FTS5 tables with the trigram tokenizer over client (name_key, company_key) and
#   email (address), external content kept by triggers, built here from the existing rows;
# - PostgreSQL: pg_trgm GIN indexes on the same three columns (LIKE '%part%' uses them);
# - the word table client_word goes. Going back rebuilds it from the keys.
# Written out here, not imported, so that this migration stays as it was released.

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_BATCH = 5000

# FTS5 table -> (content table, indexed columns)
_FTS = {
    "client_search": ("client", ("name_key", "company_key")),
    "email_search": ("email", ("address",)),
}
# GIN index -> (table, column)
_TRGM = {
    "idx_client_name_key_trgm": ("client", "name_key"),
    "idx_client_company_key_trgm": ("client", "company_key"),
    "idx_email_address_trgm": ("email", "address"),
}


def _key(text: str) -> str:
    """Lower-case, accents removed, spaces collapsed (models/contacts/search_text.search_key)."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _SPACES.sub(" ", text).strip().lower()


def _sqlite_statements() -> list[str]:
    statements = []
    for fts, (table, columns) in _FTS.items():
        names = ", ".join(columns)
        new = ", ".join(f"NEW.{c}" for c in columns)
        old = ", ".join(f"OLD.{c}" for c in columns)
        add = f"INSERT INTO {fts} (rowid, {names}) VALUES (NEW.id, {new});"
        remove = f"INSERT INTO {fts} ({fts}, rowid, {names}) VALUES ('delete', OLD.id, {old});"
        statements += [
            f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', "
            f"content_rowid='id', tokenize='trigram')",
            f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add} END",
            f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {remove} END",
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} "
            f"BEGIN {remove} {add} END",
            f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
        ]
    return statements


def _pg_statements() -> list[str]:
    indexes = [
        f'CREATE INDEX "{name}" ON "{table}" USING gin ("{column}" gin_trgm_ops)'
        for name, (table, column) in _TRGM.items()
    ]
    # Statistics of the new column: the planner then knows when a part is rare enough for
    # the trigram indexes and when reading the newest clients first is cheaper.
    return ["CREATE EXTENSION IF NOT EXISTS pg_trgm", *indexes, "ANALYZE client (company_key)"]


async def _fill_company_keys(client) -> None:
    last_id = 0
    while True:
        rows = await client.execute_query_dict(
            "SELECT id, company_name FROM client WHERE id > "
            f"{int(last_id)} AND company_name <> '' ORDER BY id LIMIT {_BATCH}"
        )
        if not rows:
            return
        postgres = client.capabilities.dialect == "postgres"
        sql = (
            "UPDATE client SET company_key = $1 WHERE id = $2"
            if postgres
            else "UPDATE client SET company_key = ? WHERE id = ?"
        )
        await client.execute_many(sql, [[_key(r["company_name"])[:200], r["id"]] for r in rows])
        last_id = rows[-1]["id"]


async def _install(apps, schema_editor) -> None:
    client = schema_editor.client
    # Before the FTS tables are built, so that they index the filled keys.
    await _fill_company_keys(client)
    postgres = client.capabilities.dialect == "postgres"
    for statement in _pg_statements() if postgres else _sqlite_statements():
        await client.execute_script(statement)


async def _uninstall(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        statements = [f'DROP INDEX "{name}"' for name in _TRGM]
        insert = "INSERT INTO client_word (word, client_id) VALUES ($1, $2)"
    else:
        statements = []
        for fts in _FTS:
            statements += [f"DROP TRIGGER {fts}_{e}" for e in ("insert", "delete", "update")]
            statements.append(f"DROP TABLE {fts}")
        insert = "INSERT INTO client_word (word, client_id) VALUES (?, ?)"
    for statement in statements:
        await client.execute_script(statement)
    # The words of the name and company, as the word table held them.
    last_id = 0
    while True:
        rows = await client.execute_query_dict(
            f"SELECT id, name_key, company_key FROM client WHERE id > {int(last_id)} "
            f"ORDER BY id LIMIT {_BATCH}"
        )
        if not rows:
            return
        words = []
        for r in rows:
            seen: dict[str, None] = {}
            for key in (r["name_key"], r["company_key"]):
                for word in _WORD.findall(key or ""):
                    seen[word[:60]] = None
            words += [[word, r["id"]] for word in seen]
        if words:
            await client.execute_many(insert, words)
        last_id = rows[-1]["id"]


class _AddCompanyKey(ops.AddField):
    """Going back drops the column in place: Tortoise remakes a SQLite table to drop a column,
    and dropping the old client table would cascade to every phone, email and deal."""

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None:
            await state_editor.client.execute_script(
                f'ALTER TABLE "client" DROP COLUMN "{self.name}"'
            )


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_timeline_detail")]

    initial = False

    operations = [
        _AddCompanyKey(
            model_name="Client",
            name="company_key",
            field=fields.CharField(default="", db_default="", max_length=200),
        ),
        ops.RunPython(_install, _uninstall),
        ops.DeleteModel(name="ClientWord"),
    ]
