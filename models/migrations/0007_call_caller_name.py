# The caller's name as the PBX sent it (CallerIDName) on every call from an unknown number,
# shown on the calls list and used to name its auto-lead (issue 14). With a database default:
# SQLite refuses a NOT NULL column without one on a table that has rows (a CRM with calls).
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
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
    ]
