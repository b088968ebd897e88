"""Calls as recorded from the PBX (L1)."""

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.clients import Client
    from models.schema.leads import Lead
    from models.schema.users import User


class Call(Model):
    """One call, keyed by the PBX's Linkedid."""

    id = fields.IntField(primary_key=True)
    linkedid = fields.CharField(max_length=64, null=True, unique=True)
    action_id = fields.CharField(max_length=64, null=True, db_index=True)
    direction = fields.CharField(max_length=10)  # in|out|internal
    from_number = fields.CharField(max_length=64, default="")
    to_number = fields.CharField(max_length=64, default="")
    peer_e164 = fields.CharField(max_length=20, null=True, db_index=True)
    # The name the PBX gave the outside party (CallerIDName), "" when it gave none.
    caller_name = fields.CharField(max_length=200, default="", db_default="")
    did = fields.CharField(max_length=64, default="")
    agent: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="calls", null=True, on_delete=fields.SET_NULL
    )
    agent_id: int | None
    agent_extension = fields.CharField(max_length=20, default="")
    client: fields.ForeignKeyNullableRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="calls", null=True, on_delete=fields.SET_NULL
    )
    client_id: int | None
    lead: fields.ForeignKeyNullableRelation["Lead"] = fields.ForeignKeyField(
        "crm.Lead", related_name="calls", null=True, on_delete=fields.SET_NULL
    )
    lead_id: int | None
    result = fields.CharField(max_length=12, db_index=True)  # answered|missed|busy|failed|no_answer
    started_at = fields.DatetimeField(db_index=True)
    answered_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    wait_seconds = fields.IntField(default=0)
    talk_seconds = fields.IntField(default=0)
    hangup_cause = fields.IntField(null=True)
    recording_path = fields.CharField(max_length=500, default="")
    transcript = fields.TextField(default="")
    # When speech recognition last finished with this call (X2), transcript or failure.
    transcribed_at = fields.DatetimeField(null=True)
    # Why the last transcription failed, "" when it did not.
    transcription_error = fields.CharField(max_length=500, default="", db_default="")
    transfers: list[Any] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "call"
        indexes = (("agent_id", "started_at"), ("client_id",), ("lead_id",))
