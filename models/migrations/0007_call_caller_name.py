# The caller's name as the PBX sent it (CallerIDName) on every call from an unknown number,
# shown on the calls list and used to name its auto-lead (issue 14).
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0006_sessions_and_login_throttle')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Call',
            name='caller_name',
            field=fields.CharField(default='', max_length=200),
        ),
    ]
