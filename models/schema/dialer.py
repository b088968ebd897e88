"""Auto-dialer lists (Q1) and bulk SMS batches (C8)."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.activity import Sms
    from models.schema.calls import Call
    from models.schema.clients import Client
    from models.schema.leads import Lead
    from models.schema.users import User


class DialerList(Model):
    """A list of numbers an agent's phone dials one after another.

    status: idle (built, not started), running, paused, stopped (by a user) or finished.
    `last_ended_at` is when the last dialed call ended, so that the gap before the next call
    is kept across a restart.
    """

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    owner: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="dialer_lists", on_delete=fields.CASCADE
    )
    owner_id: int
    status = fields.CharField(max_length=10, default="idle", db_index=True)
    created_at = fields.DatetimeField()
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    last_ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "dialer_list"


class DialerEntry(Model):
    """One number of a dialer list and what became of it.

    state: pending, dialing (claimed, call placed), done (result known) or skipped.
    result: answered, no_answer, busy, failed or invalid, with a reason for the last three.
    `request_id` is the click-to-call request id (the Originate's ActionID), by which the
    stored call is found again after a restart.
    """

    id = fields.IntField(primary_key=True)
    dialer_list: fields.ForeignKeyRelation["DialerList"] = fields.ForeignKeyField(
        "crm.DialerList", related_name="entries", on_delete=fields.CASCADE
    )
    dialer_list_id: int
    position = fields.IntField()
    number = fields.CharField(max_length=64)
    e164 = fields.CharField(max_length=20, null=True)
    name = fields.CharField(max_length=200, default="")
    client: fields.ForeignKeyNullableRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="dialer_entries", null=True, on_delete=fields.SET_NULL
    )
    client_id: int | None
    lead: fields.ForeignKeyNullableRelation["Lead"] = fields.ForeignKeyField(
        "crm.Lead", related_name="dialer_entries", null=True, on_delete=fields.SET_NULL
    )
    lead_id: int | None
    state = fields.CharField(max_length=10, default="pending")
    result = fields.CharField(max_length=10, default="")
    reason = fields.CharField(max_length=255, default="")
    request_id = fields.CharField(max_length=64, null=True, unique=True)
    linkedid = fields.CharField(max_length=64, null=True)
    call: fields.ForeignKeyNullableRelation["Call"] = fields.ForeignKeyField(
        "crm.Call", related_name="dialer_entries", null=True, on_delete=fields.SET_NULL
    )
    call_id: int | None
    dialed_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "dialer_entry"
        indexes = (("dialer_list_id", "state", "position"),)


class SmsBatch(Model):
    """A bulk SMS: one template sent to many recipients (C8), for the delivery report."""

    id = fields.IntField(primary_key=True)
    author: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="sms_batches", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    template = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "sms_batch"


class SmsBatchItem(Model):
    """One recipient of a bulk SMS: the Sms row sent to them."""

    id = fields.IntField(primary_key=True)
    batch: fields.ForeignKeyRelation["SmsBatch"] = fields.ForeignKeyField(
        "crm.SmsBatch", related_name="items", on_delete=fields.CASCADE
    )
    batch_id: int
    sms: fields.ForeignKeyRelation["Sms"] = fields.ForeignKeyField(
        "crm.Sms", related_name="batch_items", on_delete=fields.CASCADE
    )
    sms_id: int

    class Meta:
        table = "sms_batch_item"
