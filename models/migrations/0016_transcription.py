# Speech recognition of call recordings (X2): when a call was transcribed, why it failed, and
# the company switch that turns it on.
from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("crm", "0015_google_calendar")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Call",
            name="transcribed_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Call",
            name="transcription_error",
            field=fields.CharField(default="", db_default="", max_length=500),
        ),
        ops.AddField(
            model_name="TelephonySettings",
            name="is_transcribe_calls",
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
