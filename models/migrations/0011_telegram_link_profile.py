# Linking Telegram from the profile page (issue 15 item 7): link codes are kept as their
# SHA-256 (a leaked table links no chat), the profile shows who the linked chat is and since
# when, and the company remembers the bot's @username for the t.me link. Codes made before
# this migration stop working (they lasted ten minutes anyway).
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0010_list_sort_indexes')]

    initial = False

    operations = [
        ops.RunSQL("DELETE FROM telegram_link_code", reverse_sql="SELECT 1"),
        ops.RenameField(
            model_name='TelegramLinkCode',
            old_name='code',
            new_name='code_hash',
        ),
        ops.AlterField(
            model_name='TelegramLinkCode',
            name='code_hash',
            field=fields.CharField(unique=True, max_length=64),
        ),
        ops.AddField(
            model_name='User',
            name='telegram_name',
            field=fields.CharField(default='', db_default='', max_length=150),
        ),
        ops.AddField(
            model_name='User',
            name='telegram_username',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='User',
            name='telegram_linked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Company',
            name='telegram_bot_username',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
    ]
