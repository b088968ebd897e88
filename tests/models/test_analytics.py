from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from models import analytics
from models.caller import CallerDirectory
from models.calls import CallRecord
from models.clients import ClientInput, create_client
from models.clock import FixedClock
from models.deals import create_deal, move_deal
from models.errors import PermissionDenied, ValidationFailed
from models.leads import LeadInput, convert_lead, create_lead
from models.users import create_group, create_user

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
    assert dict(stats["funnel"]) == {
        "new": 1,
        "in_progress": 0,
        "awaiting_decision": 0,
        "awaiting_payment": 0,
        "won": 2,
        "cancelled": 1,
    }
    assert stats["revenue"] == {"EUR": Decimal("100.00"), "USD": Decimal("50.00")}
    assert stats["conversion"] == round(2 / 3, 4)
    assert stats["average_days_to_win"] == 2.0
    assert (await analytics.deal_stats(world.marta, START, END))["created"] == 0  # not hers


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
    own = await analytics.call_stats(world.luis, START, END)
    assert own["total"] == 2


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
    leads = await analytics.lead_stats(world.ana, START, END)
    assert leads["created"] == 2 and leads["converted"] == 1 and leads["conversion"] == 0.5
    assert leads["unhandled_now"] == 1
    assert leads["created_series"] == [(date(2026, 11, 25), 2)]
    assert dict(leads["by_source"]) == {"api": 1, "call": 1}


async def test_client_growth_and_rights(world, clock):
    for day in (3, 10, 25):
        await create_client(
            world.luis,
            ClientInput(name=f"C{day}"),
            clock=FixedClock(datetime(2026, 11, day, 12, tzinfo=UTC)),
        )
    growth = await analytics.client_growth(world.ana, START, END, bucket="week")
    assert growth["new"] == 3 and [n for _, n in growth["series"]] == [1, 1, 1]
    assert growth["series"][0][0] == date(2026, 11, 2)  # the Monday of the week of Nov 3
    assert (await analytics.client_growth(world.ana, START, END, responsible_id=world.marta.id))[
        "new"
    ] == 0
    with pytest.raises(ValidationFailed):
        await analytics.client_growth(world.ana, END, START)
    await create_group("NoStats", [])
    pepe = await create_user("pepe", "long-password", group_name="NoStats")
    await pepe.fetch_related("group")
    with pytest.raises(PermissionDenied):
        await analytics.deal_stats(pepe, START, END)
