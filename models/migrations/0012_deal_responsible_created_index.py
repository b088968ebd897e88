from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# The deals list sorted by responsible reads each user's deals newest first
# (models/sales/deals.py SORTS): an index range instead of sorting all of a user's deals.


class Migration(migrations.Migration):
    dependencies = [("crm", "0011_telegram_link_profile")]

    initial = False

    operations = [
        ops.AddIndex(model_name="Deal", index=Index(fields=["responsible_id", "created_at"])),
    ]
