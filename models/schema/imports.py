"""Import batches and what each changed, so that one can be cancelled (C9)."""

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.users import User


class ImportBatch(Model):
    """One import of a file."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=10, default="clients")  # clients|leads
    file_name = fields.CharField(max_length=255)
    status = fields.CharField(
        max_length=12, default="pending"
    )  # pending|running|done|failed|cancelled
    user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="imports", null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    mapping: dict[str, Any] = fields.JSONField(default=dict)
    options: dict[str, Any] = fields.JSONField(default=dict)
    total_rows = fields.IntField(default=0)
    processed_rows = fields.IntField(default=0)
    created_count = fields.IntField(default=0)
    updated_count = fields.IntField(default=0)
    skipped_count = fields.IntField(default=0)
    rejected_count = fields.IntField(default=0)
    rejected: list[Any] = fields.JSONField(default=list)
    error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    # Until when the process running (or about to run) the import answers for it; renewed
    # while it runs. Past it, another instance takes the import for interrupted.
    lease_until = fields.DatetimeField(
        null=True, description="until when the running process answers for the import"
    )

    class Meta:
        table = "import_batch"


class ImportChange(Model):
    """A row an import created or updated, with the previous values of an update."""

    id = fields.IntField(primary_key=True)
    batch: fields.ForeignKeyRelation["ImportBatch"] = fields.ForeignKeyField(
        "crm.ImportBatch", related_name="changes", on_delete=fields.CASCADE
    )
    batch_id: int
    entity = fields.CharField(max_length=10)  # client|lead
    entity_id = fields.IntField()
    action = fields.CharField(max_length=10)  # created|updated
    previous: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "import_change"
        indexes = (("batch_id",),)
