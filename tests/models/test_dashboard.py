from datetime import UTC, datetime, timedelta

from models.contacts.clients import ClientInput, create_client
from models.core.clock import FixedClock
from models.reporting.dashboard import dashboard_numbers, periods
from models.sales.leads import LeadInput, create_lead
from models.telephony.call_record import CallRecord
from models.telephony.caller_directory import CallerDirectory
from models.work.tasks import TaskInput, complete_task, create_task

WED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


async def test_week_starts_on_the_users_first_weekday_in_their_zone(world):
    p = periods(world.luis, WED)  # Europe/Madrid, Monday
    assert p.week_start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # Mon 00:00 in Madrid
    assert p.today_start == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
    world.luis.first_weekday = 6  # Sunday
    world.luis.time_zone = "America/New_York"
    p = periods(world.luis, WED)
    assert p.week_start == datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


async def test_dashboard_counts_what_the_agent_sees(world, clock):
    def at(when: datetime) -> FixedClock:
        return FixedClock(when)

    # Sunday 23:30 in Madrid: last week. Monday 00:30 in Madrid: this week. Wednesday: today.
    await create_client(
        world.luis, ClientInput(name="Old"), clock=at(datetime(2026, 11, 22, 22, 30, tzinfo=UTC))
    )
    await create_client(
        world.luis, ClientInput(name="Monday"), clock=at(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    )
    await create_client(world.luis, ClientInput(name="Today"), clock=clock)
    await create_client(world.marta, ClientInput(name="Marta's"), clock=clock)  # not Luis's

    await create_lead(world.luis, LeadInput(name="Mine"), clock=clock)
    await create_lead(world.marta, LeadInput(name="Web"), unhandled=True, clock=clock)

    done = await create_task(
        world.luis, TaskInput(title="Done", due_at=WED - timedelta(days=1)), clock=clock
    )
    await complete_task(world.luis, done.id, clock=clock)
    await create_task(
        world.luis, TaskInput(title="Late", due_at=WED - timedelta(hours=1)), clock=clock
    )
    await create_task(
        world.luis, TaskInput(title="Soon", due_at=WED + timedelta(hours=2)), clock=clock
    )
    await create_task(
        world.luis, TaskInput(title="Next week", due_at=WED + timedelta(days=7)), clock=clock
    )

    directory = await CallerDirectory.load()
    for i, (direction, when) in enumerate(
        [
            ("in", WED - timedelta(hours=1)),
            ("out", WED - timedelta(hours=2)),
            ("in", WED - timedelta(days=2)),
        ]
    ):
        await directory.record_call(
            CallRecord(
                linkedid=f"d.{i}",
                direction=direction,
                from_number="600000001" if direction == "in" else "101",
                to_number="900100200" if direction == "in" else "600000001",
                started_at=when,
                result="answered",
                agent_extension="101",
            ),
            clock=clock,
        )

    numbers = await dashboard_numbers(world.luis, clock)
    assert (
        numbers["clients_total"],
        numbers["clients_new_week"],
        numbers["clients_new_today"],
    ) == (3, 2, 1)
    assert (numbers["leads_handled"], numbers["leads_unhandled"]) == (2, 1)  # Mine + the auto-lead
    assert (numbers["tasks_week_done"], numbers["tasks_week_total"]) == (1, 3)
    assert numbers["tasks_overdue"] == 1
    assert numbers["tasks_current"] == 1 and numbers["current_tasks"][0]["title"] == "Soon"
    assert (numbers["calls_in_today"], numbers["calls_out_today"]) == (1, 1)
    assert (numbers["calls_in_week"], numbers["calls_out_week"]) == (2, 1)
    assert numbers["leads_new_today"] == 3 and numbers["leads_new_week"] == 3
    admin = await dashboard_numbers(world.ana, clock)
    assert admin["clients_total"] == 4
