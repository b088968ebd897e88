"""Tasks: the calendar's events (K1, T1-T3)."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.schema.clients import Client
    from models.schema.deals import Deal
    from models.schema.leads import Lead
    from models.schema.users import User


class Task(Model):
    """A task, planned call, videoconference or scheduled SMS."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    kind = fields.CharField(max_length=10, default="task")  # task|call|video|sms
    due_at = fields.DatetimeField(db_index=True)
    duration_minutes = fields.IntField(default=30)
    # An all-day task (from an all-day Google event): due at local midnight, lasting whole days.
    all_day = fields.BooleanField(default=False, db_default=False)
    author: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="tasks_authored", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    assignees: fields.ManyToManyRelation["User"] = fields.ManyToManyField(
        "crm.User", related_name="tasks", through="task_assignee"
    )
    client: fields.ForeignKeyNullableRelation["Client"] = fields.ForeignKeyField(
        "crm.Client", related_name="tasks", null=True, on_delete=fields.CASCADE
    )
    client_id: int | None
    lead: fields.ForeignKeyNullableRelation["Lead"] = fields.ForeignKeyField(
        "crm.Lead", related_name="tasks", null=True, on_delete=fields.CASCADE
    )
    lead_id: int | None
    deal: fields.ForeignKeyNullableRelation["Deal"] = fields.ForeignKeyField(
        "crm.Deal", related_name="tasks", null=True, on_delete=fields.CASCADE
    )
    deal_id: int | None
    sms_text = fields.TextField(default="")
    is_done = fields.BooleanField(default=False, db_index=True)
    done_at = fields.DatetimeField(null=True)
    done_by: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "crm.User", related_name="tasks_done", null=True, on_delete=fields.SET_NULL
    )
    done_by_id: int | None
    remind_minutes_before = fields.IntField(null=True)
    reminded_at = fields.DatetimeField(null=True)
    google_event_id = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "task"
        # title and created_at: the list sorts by them (models/work/tasks.py SORTS).
        indexes = (("client_id",), ("lead_id",), ("deal_id",), ("title",), ("created_at",))
