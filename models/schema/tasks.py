"""Tasks: the calendar's events (K1, T1-T3)."""

from tortoise import fields
from tortoise.models import Model


class Task(Model):
    """A task, planned call, videoconference or scheduled SMS."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    kind = fields.CharField(max_length=10, default="task")  # task|call|video|sms
    due_at = fields.DatetimeField(db_index=True)
    duration_minutes = fields.IntField(default=30)
    author = fields.ForeignKeyField(
        "crm.User", related_name="tasks_authored", null=True, on_delete=fields.SET_NULL
    )
    assignees: fields.ManyToManyRelation = fields.ManyToManyField(
        "crm.User", related_name="tasks", through="task_assignee"
    )
    client = fields.ForeignKeyField(
        "crm.Client", related_name="tasks", null=True, on_delete=fields.CASCADE
    )
    lead = fields.ForeignKeyField(
        "crm.Lead", related_name="tasks", null=True, on_delete=fields.CASCADE
    )
    deal = fields.ForeignKeyField(
        "crm.Deal", related_name="tasks", null=True, on_delete=fields.CASCADE
    )
    sms_text = fields.TextField(default="")
    is_done = fields.BooleanField(default=False, db_index=True)
    done_at = fields.DatetimeField(null=True)
    done_by = fields.ForeignKeyField(
        "crm.User", related_name="tasks_done", null=True, on_delete=fields.SET_NULL
    )
    remind_minutes_before = fields.IntField(null=True)
    reminded_at = fields.DatetimeField(null=True)
    google_event_id = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "task"
        indexes = (("client_id",), ("lead_id",), ("deal_id",))
