from datetime import UTC, datetime, timedelta

import pytest

from models.contacts.clients import ClientInput, create_client
from models.contacts.timeline import client_timeline
from models.core.errors import NotFound, PermissionDenied, ValidationFailed
from models.people.users import create_group, create_user
from models.schema.tasks import Task
from models.work import tasks as task_ops
from models.work.tasks import TaskInput

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def test_task_for_oneself_and_for_a_colleague(world, clock):
    client = await create_client(world.luis, ClientInput(name="Pedro"), clock=clock)
    own = await task_ops.create_task(
        world.luis,
        TaskInput(title="Call Pedro back", due_at=NOON, kind="call", client_id=client.id),
        clock=clock,
    )
    shared = await task_ops.create_task(
        world.luis,
        TaskInput(
            title="Demo", due_at=NOON, kind="video", assignee_ids=[world.luis.id, world.marta.id]
        ),
        clock=clock,
    )
    rows, total = await task_ops.list_tasks(world.marta, clock=clock)
    assert [t.id for t in rows] == [shared.id] and total == 1
    rows, _ = await task_ops.list_tasks(world.luis, clock=clock)
    assert {t.id for t in rows} == {own.id, shared.id}
    assert "task" in [e.kind for e in await client_timeline(world.luis, client.id)]


async def test_task_for_another_user_needs_the_right(world, clock):
    group = await create_group("Juniors", [])
    junior = await create_user("pepe", "long-password", group_name="Juniors")
    await junior.fetch_related("group")
    assert group.rights == []
    with pytest.raises(PermissionDenied):
        await task_ops.create_task(
            junior,
            TaskInput(title="For Luis", due_at=NOON, assignee_ids=[world.luis.id]),
            clock=clock,
        )
    mine = await task_ops.create_task(junior, TaskInput(title="Mine", due_at=NOON), clock=clock)
    with pytest.raises(NotFound, match=f"^task {mine.id} not found$"):  # as if there were none
        await task_ops.get_task(world.luis, mine.id)


async def test_bad_task_input_names_the_fields(world, clock):
    with pytest.raises(ValidationFailed) as err:
        await task_ops.create_task(
            world.luis, TaskInput(title="", due_at=NOON, kind="fax"), clock=clock
        )
    assert {"title", "kind"} <= set(err.value.fields)
    with pytest.raises(ValidationFailed) as err:
        await task_ops.create_task(
            world.luis,
            TaskInput(title="SMS", due_at=NOON, kind="sms"),
            clock=clock,
            sms_enabled=True,
        )
    assert "sms_text" in err.value.fields


async def test_an_sms_task_is_refused_on_its_type_while_sms_is_not_configured(world, clock):
    """Planned without a gateway it would never be sent, only turn overdue (issue 14)."""
    client = await create_client(world.luis, ClientInput(name="Eva"), clock=clock)
    sms_task = TaskInput(
        title="Recordatorio", due_at=NOON, kind="sms", sms_text="Hasta mañana", client_id=client.id
    )
    with pytest.raises(ValidationFailed) as err:
        await task_ops.create_task(world.luis, sms_task, clock=clock)
    assert err.value.fields == {"kind": "SMS is not configured on this CRM"}
    assert await Task.filter(kind="sms").count() == 0
    plain = await task_ops.create_task(
        world.luis, TaskInput(title="Llamar", due_at=NOON), clock=clock
    )
    with pytest.raises(ValidationFailed) as err:
        await task_ops.update_task(world.luis, plain.id, sms_task)
    assert set(err.value.fields) == {"kind"}
    assert (await Task.get(id=plain.id)).kind == "task"
    created = await task_ops.create_task(world.luis, sms_task, clock=clock, sms_enabled=True)
    assert (created.kind, created.sms_text) == ("sms", "Hasta mañana")


async def test_overdue_complete_reopen_reschedule(world, clock):
    task = await task_ops.create_task(
        world.luis, TaskInput(title="Send offer", due_at=NOON), clock=clock
    )
    rows, _ = await task_ops.list_tasks(world.luis, status="overdue", clock=clock)
    assert rows == []
    clock.advance(hours=3)  # 13:00 -> past due
    rows, _ = await task_ops.list_tasks(world.luis, status="overdue", clock=clock)
    assert [t.id for t in rows] == [task.id] and task_ops.is_overdue(rows[0], clock.now())
    await task_ops.complete_task(world.luis, task.id, clock=clock)
    assert (await task_ops.list_tasks(world.luis, status="overdue", clock=clock))[0] == []
    done, _ = await task_ops.list_tasks(world.luis, status="done", clock=clock)
    assert [t.id for t in done] == [task.id] and done[0].done_by_id == world.luis.id
    await task_ops.reopen_task(world.luis, task.id)
    await task_ops.reschedule_task(world.luis, task.id, clock.now() + timedelta(days=1))
    assert (await task_ops.list_tasks(world.luis, status="overdue", clock=clock))[0] == []


async def test_calendar_admin_sees_everyone_agents_only_themselves(world, clock):
    day = datetime(2026, 11, 25, tzinfo=UTC)
    luis_task = await task_ops.create_task(
        world.luis, TaskInput(title="L", due_at=NOON), clock=clock
    )
    marta_task = await task_ops.create_task(
        world.marta, TaskInput(title="M", due_at=NOON), clock=clock
    )
    await task_ops.create_task(
        world.marta, TaskInput(title="Tomorrow", due_at=NOON + timedelta(days=1)), clock=clock
    )

    async def shown(user, user_ids=None):
        query = task_ops.calendar_query(user, day, day + timedelta(days=1), user_ids)
        return await query.order_by("due_at", "id")

    everyone = await shown(world.ana)
    assert {t.id for t in everyone} == {luis_task.id, marta_task.id}
    only_marta = await shown(world.ana, user_ids=[world.marta.id])
    assert [t.id for t in only_marta] == [marta_task.id]
    own = await shown(world.luis)
    assert [t.id for t in own] == [luis_task.id]
    with pytest.raises(PermissionDenied):
        await shown(world.luis, [world.marta.id])
    with pytest.raises(PermissionDenied):
        await task_ops.list_tasks(world.luis, scope="all")


async def test_an_all_day_task_is_due_all_day_and_overdue_the_day_after(world, clock):
    from models.core.clock import FixedClock

    midnight = clock.now().replace(hour=0)  # the clock's day, 10:00 UTC now
    task = await task_ops.create_task(
        world.luis,
        TaskInput(title="Feria", due_at=midnight, all_day=True, duration_minutes=1440),
    )
    assert not task_ops.is_overdue(task, clock.now())
    upcoming, _ = await task_ops.list_tasks(world.luis, status="upcoming", clock=clock)
    assert [t.title for t in upcoming] == ["Feria"]
    next_day = FixedClock(midnight + timedelta(days=1, minutes=1))
    assert task_ops.is_overdue(task, next_day.now())
    overdue, _ = await task_ops.list_tasks(world.luis, status="overdue", clock=next_day)
    assert [t.title for t in overdue] == ["Feria"]
