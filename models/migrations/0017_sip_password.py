from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0016_transcription')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='sip_password_sealed',
            field=fields.TextField(default='', description='SIP password of the web phone, encrypted', db_default='', unique=False),
        ),
    ]
