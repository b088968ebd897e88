"""The calls list counts exactly up to a cap, and says "more than" beyond it."""

from datetime import timedelta

from models.schema.calls import Call
from models.telephony import call_history as call_list
from models.telephony.call_history import CallFilter, list_calls


async def _calls(clock, agent, n: int) -> list[int]:
    ids = []
    for i in range(n):
        call = await Call.create(
            linkedid=f"cap-{i}",
            direction="in",
            from_number="+34911234567",
            to_number="900100200",
            result="answered",
            started_at=clock.now() - timedelta(minutes=i),
            agent_id=agent.id,
        )
        ids.append(call.id)
    return ids


async def test_total_is_exact_under_the_cap_and_capped_above(world, clock, monkeypatch):
    ids = await _calls(clock, world.luis, 5)
    rows, total = await list_calls(world.ana, CallFilter(), limit=2)
    assert total == 5 and [c.id for c in rows] == ids[:2]  # newest first

    monkeypatch.setattr(call_list, "COUNT_CAP", 3)
    rows, total = await list_calls(world.ana, CallFilter(), limit=2, offset=2)
    assert total == 4  # "more than 3"
    assert [c.id for c in rows] == ids[2:4]
    _, own = await list_calls(world.marta, CallFilter())
    assert own == 0  # an agent counts only their own calls
