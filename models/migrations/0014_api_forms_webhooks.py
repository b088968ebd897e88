# The public API and integrations (issue 18): API tokens (kept as SHA-256), web-form lead
# sources with their allowed origins, webhook subscriptions (secret sealed) and their log.
from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0013_mailboxes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('crm.User', source_field='user_id', db_constraint=True, to_field='id', related_name='api_tokens', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(default='', max_length=100)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('token_prefix', fields.CharField(max_length=16)),
                ('scope', fields.CharField(default='read', max_length=5)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_ip', fields.CharField(default='', max_length=45)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_token', 'app': 'crm', 'indexes': [Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': 'A token that acts as its user on /api/v1. Only its SHA-256 is kept, and its first'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FormSource',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(max_length=100)),
                ('allowed_origins', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('source_tag', fields.ForeignKeyField('crm.SourceTag', source_field='source_tag_id', null=True, db_constraint=True, to_field='id', related_name='form_sources', on_delete=OnDelete.SET_NULL)),
                ('responsible', fields.ForeignKeyField('crm.User', source_field='responsible_id', null=True, db_constraint=True, to_field='id', related_name='form_sources', on_delete=OnDelete.SET_NULL)),
                ('enabled', fields.BooleanField(default=True)),
                ('submissions', fields.IntField(default=0)),
                ('last_submission_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'form_source', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'A web form that may create leads through POST /api/v1/forms/{key}.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookSubscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('url', fields.CharField(max_length=2000)),
                ('event_types', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('secret_encrypted', fields.TextField(unique=False)),
                ('description', fields.CharField(default='', max_length=200)),
                ('enabled', fields.BooleanField(default=True)),
                ('consecutive_failures', fields.IntField(default=0)),
                ('paused_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('paused_reason', fields.CharField(default='', max_length=500)),
                ('created_by', fields.ForeignKeyField('crm.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='webhook_subscriptions', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'webhook_subscription', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'An outside address told of chosen events, signed with HMAC-SHA256 under its secret'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscription', fields.ForeignKeyField('crm.WebhookSubscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event_id', fields.CharField(unique=True, max_length=36)),
                ('event_type', fields.CharField(max_length=40)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='pending', max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('response_code', fields.IntField(null=True)),
                ('response_excerpt', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'crm', 'indexes': [Index(fields=['subscription_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One event sent (or being sent) to one subscription: the delivery log.'},
            bases=['Model'],
        ),
    ]
