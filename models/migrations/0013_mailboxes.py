# Mailboxes (issue 16): users' IMAP/SMTP accounts (password sealed with the installation's
# key), sharing, the sync position of each folder, the exclusion list, attachments, and what
# an email row needs to thread, show and send (account, folder/uid, references, html, status).
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

class _AddEmailColumn(ops.AddField):
    """Going back drops the column in place (as 0005 does): Tortoise remakes a SQLite table to
    drop a column, and the remake of email_message loses its foreign-key column."""

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None:
            column = getattr(self.field, "source_field", None) or self.name
            if isinstance(self.field, fields.relational.ForeignKeyFieldInstance):
                column = f"{self.name}_id"
            await state_editor.client.execute_script(
                f'ALTER TABLE "email_message" DROP COLUMN "{column}"'
            )


class _UniqueAccountMessage(ops.AddConstraint):
    """One row per message and mailbox, as a named unique index both dialects create and drop
    in place."""

    _INDEX = "uq_email_message_account_message"

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None:
            await state_editor.client.execute_script(
                f'CREATE UNIQUE INDEX "{self._INDEX}" ON "email_message" ("account_id", "message_id")'
            )

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None:
            await state_editor.client.execute_script(f'DROP INDEX "{self._INDEX}"')


class Migration(migrations.Migration):
    dependencies = [('crm', '0012_deal_responsible_created_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MailAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('owner', fields.ForeignKeyField('crm.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='mail_accounts', on_delete=OnDelete.CASCADE)),
                ('address', fields.CharField(max_length=254)),
                ('display_name', fields.CharField(default='', max_length=150)),
                ('provider', fields.CharField(default='custom', max_length=20)),
                ('login', fields.CharField(max_length=254)),
                ('password_encrypted', fields.TextField(default='', unique=False)),
                ('imap_host', fields.CharField(max_length=253)),
                ('imap_port', fields.IntField()),
                ('imap_security', fields.CharField(default='tls', max_length=10)),
                ('smtp_host', fields.CharField(max_length=253)),
                ('smtp_port', fields.IntField()),
                ('smtp_security', fields.CharField(default='starttls', max_length=10)),
                ('server_saves_sent', fields.BooleanField(default=False)),
                ('sent_folder', fields.CharField(default='', max_length=200)),
                ('signature', fields.TextField(default='', unique=False)),
                ('leads_from_senders', fields.BooleanField(default=True)),
                ('leads_from_recipients', fields.BooleanField(default=False)),
                ('first_sync_days', fields.IntField(default=30)),
                ('enabled', fields.BooleanField(default=True)),
                ('idle_supported', fields.BooleanField(null=True)),
                ('last_sync_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'mail_account', 'app': 'crm', 'unique_together': (('owner_id', 'address'),), 'pk_attr': 'id', 'table_description': 'One mailbox connected by a user. The password is kept encrypted (models/core/secret_box.py)'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MailAccountShare',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('crm.MailAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='shares', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('crm.User', source_field='user_id', db_constraint=True, to_field='id', related_name='shared_mail_accounts', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'mail_account_share', 'app': 'crm', 'unique_together': (('account_id', 'user_id'),), 'pk_attr': 'id', 'table_description': 'A user other than the owner who may read and send from a mailbox.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MailAttachment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.ForeignKeyField('crm.EmailMessage', source_field='email_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('filename', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(default='application/octet-stream', max_length=127)),
                ('size', fields.IntField(default=0)),
                ('path', fields.CharField(default='', max_length=300)),
                ('content_id', fields.CharField(default='', max_length=255)),
                ('skipped', fields.BooleanField(default=False)),
            ],
            options={'table': 'mail_attachment', 'app': 'crm', 'indexes': [Index(fields=['email_id'])], 'pk_attr': 'id', 'table_description': 'A file of a message, kept under data_dir (`path` is relative to the attachments folder).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MailExclusion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('pattern', fields.CharField(unique=True, max_length=254)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'mail_exclusion', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'An address (or @domain) whose mail is never recorded: banks, newsletters, colleagues.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MailFolderState',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('crm.MailAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='folders', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('role', fields.CharField(default='inbox', max_length=10)),
                ('uidvalidity', fields.BigIntField(default=0)),
                ('last_uid', fields.BigIntField(default=0)),
                ('synced_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mail_folder_state', 'app': 'crm', 'unique_together': (('account_id', 'name'),), 'pk_attr': 'id', 'table_description': 'Where the sync of one folder stands: a restart neither misses nor repeats a message.'},
            bases=['Model'],
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='account',
            field=fields.ForeignKeyField('crm.MailAccount', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.SET_NULL),
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='body_html',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='bulk_ref',
            field=fields.CharField(default='', db_default='', max_length=36),
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='error',
            field=fields.CharField(default='', db_default='', max_length=500),
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='folder',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='has_attachments',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='in_reply_to',
            field=fields.CharField(default='', db_default='', max_length=255),
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='references',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='sent_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='snippet',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='status',
            field=fields.CharField(default='received', db_default='received', max_length=10),
        ),
        _AddEmailColumn(
            model_name='EmailMessage',
            name='uid',
            field=fields.BigIntField(null=True),
        ),
        _UniqueAccountMessage(
            model_name='EmailMessage',
            constraint=UniqueConstraint(fields=('account_id', 'message_id'), name=None),
        ),
    ]
