# Server-side sessions (the cookie carries a random key; the table keeps its SHA-256, so
# logout, a password change or a deactivation ends a session at once) and the login
# throttle's counters per account and per address, shared by every instance (issue 14).
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0005_client_text_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LoginThrottle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('failures', fields.IntField(default=0)),
                ('window_started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_failure_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_throttle', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'Login attempts counted for one account or one address, shared by every instance.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UserSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('user', fields.ForeignKeyField('crm.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('user_agent', fields.CharField(default='', max_length=255)),
                ('address', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'user_session', 'app': 'crm', 'indexes': [Index(fields=['user_id', 'expires_at'])], 'pk_attr': 'id', 'table_description': 'A logged-in browser: deleting the row ends the session.'},
            bases=['Model'],
        ),
    ]
