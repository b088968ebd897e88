from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DialerList',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('owner', fields.ForeignKeyField('crm.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='dialer_lists', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(default='idle', db_index=True, max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dialer_list', 'app': 'crm', 'pk_attr': 'id', 'table_description': "A list of numbers an agent's phone dials one after another."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DialerEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('dialer_list', fields.ForeignKeyField('crm.DialerList', source_field='dialer_list_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('number', fields.CharField(max_length=64)),
                ('e164', fields.CharField(null=True, max_length=20)),
                ('name', fields.CharField(default='', max_length=200)),
                ('client', fields.ForeignKeyField('crm.Client', source_field='client_id', null=True, db_constraint=True, to_field='id', related_name='dialer_entries', on_delete=OnDelete.SET_NULL)),
                ('lead', fields.ForeignKeyField('crm.Lead', source_field='lead_id', null=True, db_constraint=True, to_field='id', related_name='dialer_entries', on_delete=OnDelete.SET_NULL)),
                ('state', fields.CharField(default='pending', max_length=10)),
                ('result', fields.CharField(default='', max_length=10)),
                ('reason', fields.CharField(default='', max_length=255)),
                ('request_id', fields.CharField(null=True, unique=True, max_length=64)),
                ('linkedid', fields.CharField(null=True, max_length=64)),
                ('call', fields.ForeignKeyField('crm.Call', source_field='call_id', null=True, db_constraint=True, to_field='id', related_name='dialer_entries', on_delete=OnDelete.SET_NULL)),
                ('dialed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dialer_entry', 'app': 'crm', 'indexes': [Index(fields=['dialer_list_id', 'state', 'position'])], 'pk_attr': 'id', 'table_description': 'One number of a dialer list and what became of it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SmsBatch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('author', fields.ForeignKeyField('crm.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='sms_batches', on_delete=OnDelete.SET_NULL)),
                ('template', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sms_batch', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'A bulk SMS: one template sent to many recipients (C8), for the delivery report.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SmsBatchItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('batch', fields.ForeignKeyField('crm.SmsBatch', source_field='batch_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('sms', fields.ForeignKeyField('crm.Sms', source_field='sms_id', db_constraint=True, to_field='id', related_name='batch_items', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'sms_batch_item', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'One recipient of a bulk SMS: the Sms row sent to them.'},
            bases=['Model'],
        ),
    ]
