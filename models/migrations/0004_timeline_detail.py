from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0003_deal_and_client_tallies')]

    initial = False

    operations = [
        ops.AddField(
            model_name='TimelineEntry',
            name='detail',
            field=fields.JSONField(default=dict, db_default={}, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
