from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Running counts (models/schema/tallies.py) kept by triggers, and the kanban's card order.
# Written out here, not imported, so that this migration stays as it was released.

_CLIENT = {
    "table": "client",
    "tally": "client_tally",
    "keys": ("responsible_id", "status"),
    "counts": {"clients": "1"},
}
_DEAL = {
    "table": "deal",
    "tally": "deal_tally",
    "keys": ("responsible_id", "status", "currency"),
    "counts": {"deals": "1", "amount_cents": "{cents}"},
}
_SQLITE_CENTS = "CAST(ROUND({row}.amount * 100) AS INTEGER)"
_PG_CENTS = "ROUND({row}.amount * 100)::bigint"


def _key_values(spec: dict, row: str) -> list[str]:
    return [
        f"COALESCE({row}.responsible_id, 0)" if key == "responsible_id" else f"{row}.{key}"
        for key in spec["keys"]
    ]


def _count_values(spec: dict, row: str, cents: str) -> list[str]:
    return [value.format(cents=cents.format(row=row)) for value in spec["counts"].values()]


def _sqlite_statements(spec: dict) -> list[str]:
    table, tally, keys, counts = spec["table"], spec["tally"], spec["keys"], spec["counts"]
    key_list = ", ".join(keys)
    count_list = ", ".join(counts)

    def add(row: str) -> str:
        values = ", ".join(_key_values(spec, row) + _count_values(spec, row, _SQLITE_CENTS))
        sets = ", ".join(f"{c} = {c} + excluded.{c}" for c in counts)
        return (
            f"INSERT INTO {tally} ({key_list}, {count_list}) VALUES ({values}) "
            f"ON CONFLICT ({key_list}) DO UPDATE SET {sets};"
        )

    def remove(row: str) -> str:
        sets = ", ".join(
            f"{c} = {c} - {v}"
            for c, v in zip(counts, _count_values(spec, row, _SQLITE_CENTS), strict=True)
        )
        where = " AND ".join(
            f"{k} = {v}" for k, v in zip(keys, _key_values(spec, row), strict=True)
        )
        return f"UPDATE {tally} SET {sets} WHERE {where};"

    watched = [*keys, *(["amount"] if "amount_cents" in counts else [])]
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
    return [
        f"CREATE TRIGGER {tally}_insert AFTER INSERT ON {table} BEGIN {add('NEW')} END",
        f"CREATE TRIGGER {tally}_delete AFTER DELETE ON {table} BEGIN {remove('OLD')} END",
        f"CREATE TRIGGER {tally}_update AFTER UPDATE ON {table} WHEN {changed} "
        f"BEGIN {remove('OLD')} {add('NEW')} END",
    ]


def _pg_statements(spec: dict) -> list[str]:
    table, tally, keys, counts = spec["table"], spec["tally"], spec["keys"], spec["counts"]
    key_list = ", ".join(keys)
    count_list = ", ".join(counts)
    numbered = ", ".join(str(i + 1) for i in range(len(keys)))

    def rows(source: str, sign: str) -> str:
        values = _key_values(spec, "r") + [
            f"{sign}{v}" for v in _count_values(spec, "r", _PG_CENTS)
        ]
        names = [*keys, *counts]
        return "SELECT " + ", ".join(
            f"{v} AS {n}" for v, n in zip(values, names, strict=True)
        ) + f" FROM {source} r"

    statements = []
    for event, sources in (
        ("INSERT", [("new_rows", "")]),
        ("DELETE", [("old_rows", "-")]),
        ("UPDATE", [("new_rows", ""), ("old_rows", "-")]),
    ):
        union = " UNION ALL ".join(rows(source, sign) for source, sign in sources)
        sums = ", ".join(f"SUM({c})" for c in counts)
        having = " OR ".join(f"SUM({c}) <> 0" for c in counts)
        sets = ", ".join(f"{c} = {tally}.{c} + EXCLUDED.{c}" for c in counts)
        function = f"{tally}_{event.lower()}"
        statements.append(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {tally} ({key_list}, {count_list}) "
            f"SELECT {key_list}, {sums} FROM ({union}) AS changes "
            f"GROUP BY {numbered} HAVING {having} ORDER BY {numbered} "
            f"ON CONFLICT ({key_list}) DO UPDATE SET {sets}; "
            "RETURN NULL; END $$"
        )
        referencing = {
            "INSERT": "NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        }[event]
        statements.append(
            f"CREATE TRIGGER {function} AFTER {event} ON {table} REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    return statements


def _backfill(spec: dict, cents: str) -> str:
    key_list = ", ".join(spec["keys"])
    numbered = ", ".join(str(i + 1) for i in range(len(spec["keys"])))
    keys = ", ".join(_key_values(spec, spec["table"]))
    sums = ", ".join(f"SUM({v})" for v in _count_values(spec, spec["table"], cents))
    return (
        f"INSERT INTO {spec['tally']} ({key_list}, {', '.join(spec['counts'])}) "
        f"SELECT {keys}, {sums} FROM {spec['table']} GROUP BY {numbered}"
    )


# Index name -> (table, columns), created here by hand: Meta.indexes cannot say DESC, and
# task_assignee and client_tag are link tables without a model of their own.
_INDEXES = {
    # Open columns list cards by position, newest first among equals; closed ones by
    # closing time, newest first. Each column's first cards are then an index range.
    "idx_deal_board_open": ("deal", '"status", "position", "id" DESC'),
    "idx_deal_board_closed": ("deal", '"status", "closed_at", "id"'),
    # "My tasks" (dashboard, task list) start from the user's assignments.
    "idx_task_assignee_user": ("task_assignee", '"user_id", "task_id"'),
    # An agent's dashboard counts the week's leads that are theirs or nobody's.
    "idx_lead_responsible_created": ("lead", '"responsible_id", "created_at"'),
    # The clients of a tag (list filter, tag search): client_tag's own key starts with client_id.
    "idx_client_tag_tag": ("client_tag", '"tag_id", "client_id"'),
    # "My tasks" are the ones assigned to me or written by me.
    "idx_task_author": ("task", '"author_id", "due_at"'),
}


async def _install(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        statements = _pg_statements(_CLIENT) + _pg_statements(_DEAL)
        cents = _PG_CENTS
    else:
        statements = _sqlite_statements(_CLIENT) + _sqlite_statements(_DEAL)
        cents = _SQLITE_CENTS
    statements += [_backfill(_CLIENT, cents), _backfill(_DEAL, cents)]
    statements += [
        f'CREATE INDEX "{name}" ON "{table}" ({columns})'
        for name, (table, columns) in _INDEXES.items()
    ]
    for statement in statements:
        await client.execute_script(statement)


async def _uninstall(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    statements = [f'DROP INDEX "{name}"' for name in _INDEXES]
    for spec in (_CLIENT, _DEAL):
        tally, table = spec["tally"], spec["table"]
        for event in ("insert", "delete", "update"):
            if postgres:
                statements.append(f"DROP TRIGGER {tally}_{event} ON {table}")
                statements.append(f"DROP FUNCTION {tally}_{event}()")
            else:
                statements.append(f"DROP TRIGGER {tally}_{event}")
    for statement in statements:
        await client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [('crm', '0002_dialer_and_bulk_sms')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ClientTally',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('responsible_id', fields.IntField(default=0)),
                ('status', fields.CharField(max_length=20)),
                ('clients', fields.BigIntField(default=0)),
            ],
            options={'table': 'client_tally', 'app': 'crm', 'unique_together': (('responsible_id', 'status'),), 'pk_attr': 'id', 'table_description': 'How many clients each responsible (0 = nobody) has, per status.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DealTally',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('responsible_id', fields.IntField(default=0)),
                ('status', fields.CharField(max_length=20)),
                ('currency', fields.CharField(max_length=3)),
                ('deals', fields.BigIntField(default=0)),
                ('amount_cents', fields.BigIntField(default=0)),
            ],
            options={'table': 'deal_tally', 'app': 'crm', 'unique_together': (('responsible_id', 'status', 'currency'),), 'pk_attr': 'id', 'table_description': 'How many deals and what amount (in cents) per responsible, status and currency.'},
            bases=['Model'],
        ),
        ops.RunPython(_install, _uninstall),
    ]
