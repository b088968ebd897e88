from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0017_sip_password')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ImportBatch',
            name='lease_until',
            field=fields.DatetimeField(null=True, description='until when the running process answers for the import', auto_now=False, auto_now_add=False),
        ),
    ]
