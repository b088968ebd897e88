# The Telegram bot's open dialogs (aiogram FSM state and data per chat) kept in the database,
# so that a restart of the bot keeps a half-finished /task or note (issue 15).
import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('crm', '0007_call_caller_name')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChatDialog',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('bot_id', fields.BigIntField()),
                ('chat_id', fields.BigIntField()),
                ('telegram_user_id', fields.BigIntField()),
                ('thread_id', fields.BigIntField(default=0)),
                ('business_connection_id', fields.CharField(default='', max_length=100)),
                ('destiny', fields.CharField(default='default', max_length=100)),
                ('state', fields.CharField(null=True, max_length=200)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'chat_dialog', 'app': 'crm', 'unique_together': (('bot_id', 'chat_id', 'telegram_user_id', 'thread_id', 'business_connection_id', 'destiny'),), 'pk_attr': 'id', 'table_description': 'The open dialog of one chat: its state ("TaskDialog:due") and what it gathered so far.'},
            bases=['Model'],
        ),
    ]
