from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0018_import_lease')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RateCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=255)),
                ('count', fields.IntField(default=0)),
                ('expires_at', fields.FloatField(db_index=True)),
            ],
            options={'table': 'rate_counter', 'app': 'crm', 'pk_attr': 'id', 'table_description': "A request counter of a rate limit (the REST API's per token, the web forms' per address"},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='TelegramLinkCode',
            options={'table': 'telegram_link_code', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'A one-time code that links a Telegram chat to a user (B1), kept as its SHA-256.'},
        ),
    ]
