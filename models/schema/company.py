"""The company running the CRM, its telephony settings and its tracking numbers."""

from tortoise import fields
from tortoise.models import Model


class Company(Model):
    """The one company of this installation (G6)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    default_currency = fields.CharField(max_length=3, default="EUR")
    extra_currencies: list[str] = fields.JSONField(default=list)
    default_region = fields.CharField(max_length=2, default="ES")
    # The bot's @username, written by the bot at start (Bot API getMe): the profile page's
    # t.me link. Empty while no bot has started.
    telegram_bot_username = fields.CharField(max_length=64, default="", db_default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "company"


class TelephonySettings(Model):
    """Telephony settings of the company (G4)."""

    id = fields.IntField(primary_key=True)
    widget_mode = fields.CharField(
        max_length=20, default="softphone"
    )  # softphone|webrtc|working_hours
    is_autolead_inbound = fields.BooleanField(default=True)
    is_autolead_outbound = fields.BooleanField(default=True)
    is_autolead_sms = fields.BooleanField(default=True)
    is_dial_without_country_prefix = fields.BooleanField(default=False)
    is_dial_all_numbers = fields.BooleanField(default=False)
    outbound_prefix = fields.CharField(max_length=10, default="")
    webrtc_ws_url = fields.CharField(max_length=255, default="")
    recordings_dir = fields.CharField(max_length=255, default="")
    # Transcribe answered calls' recordings ([transcription] engine says how, X2).
    is_transcribe_calls = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "telephony_settings"


class SourceTag(Model):
    """A lead source: a tracking number (DID) or a named channel (N3)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    did = fields.CharField(max_length=32, null=True, unique=True)

    class Meta:
        table = "source_tag"
