# Google Calendar (issue 17): users' connected calendars (refresh token sealed), the events
# that carry tasks both ways, OAuth states under way, and all-day tasks.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class _AddTaskColumn(ops.AddField):
    """Removed with ALTER TABLE ... DROP COLUMN on the way back: SQLite's table remake would
    recreate the task table's indexes of 0010 under other names, and going back past 0010
    would then fail."""

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor:
            await state_editor.client.execute_script(
                f'ALTER TABLE "task" DROP COLUMN "{self.name}"'
            )


class Migration(migrations.Migration):
    dependencies = [('crm', '0014_api_forms_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GoogleCalendarLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('crm.User', source_field='user_id', unique=True, db_constraint=True, to_field='id', related_name='google_calendars', on_delete=OnDelete.CASCADE)),
                ('google_email', fields.CharField(default='', max_length=254)),
                ('refresh_token_sealed', fields.TextField(unique=False)),
                ('calendar_id', fields.CharField(default='', max_length=255)),
                ('calendar_name', fields.CharField(default='', max_length=255)),
                ('push_to_google', fields.BooleanField(default=True)),
                ('pull_from_google', fields.BooleanField(default=True)),
                ('sync_token', fields.TextField(default='', unique=False)),
                ('connected_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_sync_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_pull_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_full_sync_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('pull_requested_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('failures', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('needs_reconnect', fields.BooleanField(default=False)),
                ('channel_id', fields.CharField(default='', max_length=64)),
                ('channel_resource_id', fields.CharField(default='', max_length=255)),
                ('channel_token_hash', fields.CharField(default='', max_length=64)),
                ('channel_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'google_calendar', 'app': 'crm', 'pk_attr': 'id', 'table_description': "One user's connected Google Calendar and where its sync stands."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GoogleEventLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('calendar', fields.ForeignKeyField('crm.GoogleCalendarLink', source_field='calendar_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('task', fields.ForeignKeyField('crm.Task', source_field='task_id', null=True, db_constraint=True, to_field='id', related_name='google_events', on_delete=OnDelete.SET_NULL)),
                ('event_id', fields.CharField(max_length=255)),
                ('ical_uid', fields.CharField(default='', max_length=255)),
                ('recurring_event_id', fields.CharField(default='', max_length=255)),
                ('instance_start', fields.CharField(default='', max_length=40)),
                ('etag', fields.CharField(default='', max_length=100)),
                ('body_hash', fields.CharField(default='', max_length=64)),
                ('google_updated', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('task_version', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'google_event_link', 'app': 'crm', 'unique_together': (('calendar_id', 'event_id'),), 'indexes': [Index(fields=['task_id']), Index(fields=['ical_uid'])], 'pk_attr': 'id', 'table_description': 'A CRM task as one event of one connected calendar. `task` is null once the task was'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GoogleOAuthState',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('state_hash', fields.CharField(unique=True, max_length=64)),
                ('code_verifier', fields.CharField(max_length=128)),
                ('user', fields.ForeignKeyField('crm.User', source_field='user_id', db_constraint=True, to_field='id', related_name='google_oauth_states', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'google_oauth_state', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'An authorization under way: the `state` sent to Google (kept as its SHA-256), the PKCE'},
            bases=['Model'],
        ),
        _AddTaskColumn(
            model_name='Task',
            name='all_day',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
