from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# The lists sort by these columns (models/core/ordering.py): without an index every page of a
# sorted list would sort all the deals or tasks. Indexes only (AddIndex): on SQLite an
# AlterField would copy the table, dropping the tally triggers 0003 put on deal.
#
# The deal amount's index is made here by hand: SQLite keeps a decimal as text and Tortoise
# sorts it by CAST("amount" AS NUMERIC), which only an index on that expression serves;
# PostgreSQL's numeric column takes a plain index.
_AMOUNT = "idx_deal_amount"


async def _add_amount_index(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    column = '"amount"' if postgres else 'CAST("amount" AS NUMERIC)'
    await client.execute_script(f'CREATE INDEX "{_AMOUNT}" ON "deal" ({column})')


async def _drop_amount_index(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(f'DROP INDEX "{_AMOUNT}"')


class Migration(migrations.Migration):
    dependencies = [("crm", "0009_lead_text_search")]

    initial = False

    operations = [
        ops.AddIndex(model_name="Deal", index=Index(fields=["title"])),
        ops.AddIndex(model_name="Task", index=Index(fields=["title"])),
        ops.AddIndex(model_name="Task", index=Index(fields=["created_at"])),
        ops.RunPython(_add_amount_index, _drop_amount_index),
    ]
