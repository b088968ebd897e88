from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from models.contacts.clients import ClientInput, create_client
from models.core.clock import FixedClock
from models.core.errors import PermissionDenied, ValidationFailed
from models.people.users import create_group, create_user
from models.reporting import analytics
from models.reporting import team_analytics as analytics_team
from models.reporting.periods import offset_spans, resolve_period
from models.sales.deals import create_deal, move_deal
from models.sales.leads import LeadInput, convert_lead, create_lead
from models.telephony.call_record import CallRecord
from models.telephony.caller_directory import CallerDirectory
from models.work.tasks import TaskInput, complete_task, create_task

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)


async def test_deal_funnel_revenue_conversion(world, clock):
    client = await create_client(world.luis, ClientInput(name="Pedro"), clock=clock)
    a = await create_deal(world.luis, client.id, "A", "100", clock=clock)
    b = await create_deal(world.luis, client.id, "B", "50", "USD", clock=clock)
    c = await create_deal(world.luis, client.id, "C", "10", clock=clock)
    await create_deal(world.luis, client.id, "D", "10", clock=clock)
    later = FixedClock(clock.now() + timedelta(days=2))
    await move_deal(world.luis, a.id, "won", clock=later)
    await move_deal(world.luis, b.id, "won", clock=later)
    await move_deal(world.luis, c.id, "cancelled", clock=later)
    stats = await analytics.deal_stats(world.ana, START, END)
    assert stats["created"] == 4
    assert dict(stats["by_status"]) == {
        "new": 1,
        "in_progress": 0,
        "awaiting_decision": 0,
        "awaiting_payment": 0,
        "won": 2,
        "cancelled": 1,
    }
    # The funnel counts the deals that reached each stage (the cancelled one left out).
    assert stats["funnel"] == [
        ("new", 3),
        ("in_progress", 2),
        ("awaiting_decision", 2),
        ("awaiting_payment", 2),
        ("won", 2),
    ]
    assert stats["revenue"] == {"EUR": Decimal("100.00"), "USD": Decimal("50.00")}
    assert stats["conversion"] == round(2 / 3, 4)
    assert stats["average_days_to_win"] == 2.0
    assert (await analytics.deal_stats(world.marta, START, END))["created"] == 0  # not hers
    # An admin narrows to one user; an agent asking for a colleague still gets their own.
    assert (await analytics.deal_stats(world.ana, START, END, user_id=world.marta.id))[
        "created"
    ] == 0
    assert (await analytics.deal_stats(world.marta, START, END, user_id=world.luis.id))[
        "created"
    ] == 0


async def test_calls_by_user_and_hour(world, clock):
    directory = await CallerDirectory.load()
    at = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)  # 09:30 in Madrid
    for i, (ext, result) in enumerate(
        [("101", "answered"), ("101", "answered"), ("102", "answered")]
    ):
        await directory.record_call(
            CallRecord(
                linkedid=f"a.{i}",
                direction="in",
                from_number="600000009",
                to_number="900100200",
                started_at=at,
                result=result,
                agent_extension=ext,
                talk_seconds=60,
            ),
            clock=clock,
        )
    await directory.record_call(
        CallRecord(
            linkedid="a.9",
            direction="in",
            from_number="600000009",
            to_number="900100200",
            started_at=at,
            result="missed",
        ),
        clock=clock,
    )
    stats = await analytics.call_stats(world.ana, START, END)
    assert stats["total"] == 4 and stats["talk_seconds"] == 180
    assert stats["by_hour"][9] == 4  # counted in Ana's zone: 08:30 UTC is 09:30 in Madrid
    assert stats["most_active"][0]["username"] == "luis"
    assert stats["most_active"][0]["answered"] == 2
    assert stats["wait_seconds"] == 0
    kinds = {(k["direction"], k["result"]): k["total"] for k in stats["by_kind"]}
    assert kinds == {("in", "answered"): 3, ("in", "missed"): 1}
    luis_row = next(u for u in stats["by_user"] if u["username"] == "luis")
    assert luis_row["in"] == 2 and luis_row["talk_seconds"] == 120
    own = await analytics.call_stats(world.luis, START, END)
    assert own["total"] == 2 and own["by_hour"][9] == 2
    assert (await analytics.call_stats(world.ana, START, END, user_id=world.marta.id))["total"] == 1


async def test_sources_and_leads(world, clock):
    directory = await CallerDirectory.load()
    await directory.record_call(
        CallRecord(
            linkedid="s.1",
            direction="in",
            from_number="600000010",
            to_number="900100200",
            did="900100200",
            started_at=clock.now(),
            result="missed",
        ),
        clock=clock,
    )
    utm = {"utm_source": "google", "utm_campaign": "black"}
    web = await create_lead(world.luis, LeadInput(name="Form", source="api", utm=utm), clock=clock)
    await convert_lead(world.luis, web.id, clock=clock)
    sources = await analytics.source_stats(world.ana, START, END)
    by_tag = dict(sources["by_tag"])
    assert by_tag["Google Ads"]["leads"] == 1
    assert by_tag[""]["leads"] == 1 and by_tag[""]["clients"] == 1
    assert sources["by_utm"] == [{"utm_source": "google", "utm_campaign": "black", "leads": 1}]
    # Marta sees the unhandled lead of the call (anyone may take it), not Luis's web lead.
    hers = dict((await analytics.source_stats(world.marta, START, END))["by_tag"])
    assert hers == {"Google Ads": {"leads": 1, "clients": 0, "deals": 0}}
    leads = await analytics.lead_stats(world.ana, START, END)
    assert leads["created"] == 2 and leads["converted"] == 1 and leads["conversion"] == 0.5
    assert leads["unhandled_now"] == 1 and leads["unhandled"] == 1
    assert leads["created_series"] == [(date(2026, 11, 25), 2)]
    assert leads["unhandled_series"] == [(date(2026, 11, 25), 1)]
    assert dict(leads["by_source"]) == {"api": 1, "call": 1}


async def test_client_growth_and_rights(world, clock):
    for day in (3, 10, 25):
        await create_client(
            world.luis,
            ClientInput(name=f"C{day}"),
            clock=FixedClock(datetime(2026, 11, day, 12, tzinfo=UTC)),
        )
    days = await analytics.client_growth(world.ana, START, END)
    assert days["series"] == [(date(2026, 11, d), 1) for d in (3, 10, 25)]
    growth = await analytics.client_growth(world.ana, START, END, bucket="week")
    assert growth["new"] == 3 and [n for _, n in growth["series"]] == [1, 1, 1]
    assert growth["series"][0][0] == date(2026, 11, 2)  # the Monday of the week of Nov 3
    assert (await analytics.client_growth(world.ana, START, END, user_id=world.marta.id))[
        "new"
    ] == 0
    with pytest.raises(ValidationFailed):
        await analytics.client_growth(world.ana, END, START)
    await create_group("NoStats", [])
    pepe = await create_user("pepe", "long-password", group_name="NoStats")
    await pepe.fetch_related("group")
    with pytest.raises(PermissionDenied):
        await analytics.deal_stats(pepe, START, END)


async def test_period_boundaries_are_the_users_midnights(world, clock):
    now = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # already Thursday 26th in Madrid
    today = resolve_period(world.ana, now, "today")
    assert today.first_day == date(2026, 11, 26)
    assert today.start == datetime(2026, 11, 25, 23, tzinfo=UTC)
    assert today.end == datetime(2026, 11, 26, 23, tzinfo=UTC)
    week = resolve_period(world.ana, now, "week")
    assert (week.first_day, week.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    world.ana.first_weekday = 6  # her weeks start on Sunday (not saved: this test only)
    sunday = resolve_period(world.ana, now, "week")
    assert (sunday.first_day, sunday.last_day) == (date(2026, 11, 22), date(2026, 11, 28))
    assert sunday.start == datetime(2026, 11, 21, 23, tzinfo=UTC)
    world.ana.first_weekday = 0
    month = resolve_period(world.ana, now, "month")
    assert month.start == datetime(2026, 10, 31, 23, tzinfo=UTC)  # CET midnight of Nov 1
    assert month.end == datetime(2026, 11, 30, 23, tzinfo=UTC)
    last30 = resolve_period(world.ana, now, "30days")
    assert (last30.first_day, last30.last_day) == (date(2026, 10, 28), date(2026, 11, 26))
    # Oct 28 is after the change back from summer time (Oct 25): midnight is 23:00 UTC.
    assert last30.start == datetime(2026, 10, 27, 23, tzinfo=UTC)
    custom = resolve_period(world.ana, now, "custom", "2026-10-24", "2026-10-25")
    assert custom.start == datetime(2026, 10, 23, 22, tzinfo=UTC)  # summer time: UTC+2
    assert custom.end == datetime(2026, 10, 25, 23, tzinfo=UTC)
    for bad in (("custom", "2026-11-02", "2026-11-01"), ("custom", "yesterday", ""), ("year",)):
        with pytest.raises(ValidationFailed):
            resolve_period(world.ana, now, *bad)
    # A client created at 23:30 UTC on the 25th is one of "today" (the 26th) in Madrid.
    await create_client(world.luis, ClientInput(name="Late"), clock=FixedClock(now))
    assert (await analytics.client_growth(world.ana, today.start, today.end))["series"] == [
        (date(2026, 11, 26), 1)
    ]
    yesterday = resolve_period(world.ana, now - timedelta(days=1), "today")
    assert (await analytics.client_growth(world.ana, yesterday.start, yesterday.end))["new"] == 0


async def test_hours_and_days_follow_daylight_saving(world, clock):
    spans = offset_spans(ZoneInfo("Europe/Madrid"), START - timedelta(days=10), END)
    assert [m for *_, m in spans] == [120, 60]
    assert spans[0][1] == datetime(2026, 10, 25, 1, tzinfo=UTC)
    directory = await CallerDirectory.load()
    for i, at in enumerate(
        [datetime(2026, 10, 24, 8, 0, tzinfo=UTC), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)]
    ):
        await directory.record_call(
            CallRecord(
                linkedid=f"dst.{i}",
                direction="out",
                from_number="101",
                to_number="600000011",
                started_at=at,
                result="answered",
                agent_extension="101",
                talk_seconds=30,
                wait_seconds=5,
            ),
            clock=clock,
        )
    stats = await analytics.call_stats(world.ana, START - timedelta(days=10), END)
    # 08:00 UTC is 10:00 in summer time (Oct 24) and 09:00 in winter time (Oct 26).
    assert stats["by_hour"][10] == 1 and stats["by_hour"][9] == 1
    assert stats["wait_seconds"] == 10
    assert stats["by_kind"] == [
        {
            "direction": "out",
            "result": "answered",
            "total": 2,
            "talk_seconds": 60,
            "wait_seconds": 10,
        }
    ]


async def test_tasks_and_team_per_user(world, clock):
    due = datetime(2026, 11, 20, 9, tzinfo=UTC)
    ids = []
    for title, who in (("a", world.luis), ("b", world.luis), ("c", world.luis), ("d", world.marta)):
        task = await create_task(who, TaskInput(title=title, due_at=due), clock=clock)
        ids.append(task.id)
    await complete_task(world.luis, ids[0], clock=clock)
    both = await create_task(
        world.ana,
        TaskInput(title="e", due_at=due, assignee_ids=[world.luis.id, world.marta.id]),
        clock=clock,
    )
    await create_task(world.luis, TaskInput(title="late", due_at=END + timedelta(days=1)))
    assert both.id
    now = clock.now()  # Nov 25: every open task of Nov 20 is overdue
    tasks = await analytics_team.task_stats(world.ana, START, END, now)
    rows = {r["username"]: (r["open"], r["done"], r["overdue"]) for r in tasks["by_user"]}
    assert rows == {"luis": (3, 1, 3), "marta": (2, 0, 2)}
    assert (tasks["open"], tasks["done"]) == (5, 1)
    own = await analytics_team.task_stats(world.marta, START, END, now)
    assert [r["username"] for r in own["by_user"]] == ["marta"]

    client = await create_client(world.luis, ClientInput(name="Team"), clock=clock)
    won = await create_deal(world.luis, client.id, "W", "10", clock=clock)
    await create_deal(world.luis, client.id, "Open", "10", clock=clock)
    hers = await create_client(world.marta, ClientInput(name="Hers"), clock=clock)
    await create_deal(world.marta, hers.id, "Open M", "10", clock=clock)
    await move_deal(world.luis, won.id, "won", clock=clock)
    directory = await CallerDirectory.load()
    await directory.record_call(
        CallRecord(
            linkedid="t.1",
            direction="out",
            from_number="102",
            to_number="600000012",
            started_at=clock.now(),
            result="answered",
            agent_extension="102",
        ),
        clock=clock,
    )
    team = await analytics_team.team_stats(world.ana, START, END, now)
    by_name = {r["username"]: r for r in team["by_user"]}
    assert {k: by_name["luis"][k] for k in team["totals"]} == {
        "deals_in_progress": 1,
        "deals_won": 1,
        "tasks_open": 3,
        "tasks_done": 1,
        "calls": 0,
    }
    assert by_name["marta"]["calls"] == 1 and by_name["marta"]["deals_in_progress"] == 1
    assert team["totals"] == {
        "deals_in_progress": 2,
        "deals_won": 1,
        "tasks_open": 5,
        "tasks_done": 1,
        "calls": 1,
    }
    mine = await analytics_team.team_stats(world.luis, START, END, now)
    assert [r["username"] for r in mine["by_user"]] == ["luis"]
    assert mine["totals"]["tasks_open"] == 3
