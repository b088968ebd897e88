"""Date filters read the user's own days (issue 14, item 9): "from 25 to 25 November" lists
what happened between the user's midnights, not the first hour of the 26th, on the calls,
tasks, leads and clients lists and in the export; in Madrid and in Mexico City, around
midnight and across a change of daylight saving time."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from models.contacts.clients import ClientInput, create_client
from models.core.clock import FixedClock
from models.sales.leads import LeadInput, create_lead
from models.schema.users import User
from models.telephony.call_record import CallRecord
from models.telephony.caller_directory import CallerDirectory
from models.work.tasks import TaskInput, create_task
from tests.web.conftest import http_login


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# Moments around the user's midnights, named by the local day they fall on, for each zone.
# Madrid: 25 Nov runs 24 Nov 23:00 UTC -> 25 Nov 23:00 UTC. Mexico City: 06:00 -> 06:00.
# Madrid on 29 Mar 2026 (clocks 02:00 -> 03:00): 28 Mar 23:00 UTC -> 29 Mar 22:00 UTC.
CASES = {
    "Europe/Madrid": (
        "2026-11-25",
        {
            "before": utc(2026, 11, 24, 22, 30),  # 24 Nov 23:30 local
            "first": utc(2026, 11, 24, 23, 30),  # 25 Nov 00:30 local
            "last": utc(2026, 11, 25, 22, 30),  # 25 Nov 23:30 local
            "after": utc(2026, 11, 25, 23, 30),  # 26 Nov 00:30 local: the reported bug
        },
    ),
    "America/Mexico_City": (
        "2026-11-25",
        {
            "before": utc(2026, 11, 25, 5, 30),  # 24 Nov 23:30 local
            "first": utc(2026, 11, 25, 6, 30),  # 25 Nov 00:30 local
            "last": utc(2026, 11, 26, 5, 30),  # 25 Nov 23:30 local
            "after": utc(2026, 11, 26, 6, 30),  # 26 Nov 00:30 local
        },
    ),
    "Europe/Madrid/dst": (
        "2026-03-29",
        {
            "before": utc(2026, 3, 28, 22, 30),  # 28 Mar 23:30 local (UTC+1)
            "first": utc(2026, 3, 28, 23, 30),  # 29 Mar 00:30 local (UTC+1)
            "last": utc(2026, 3, 29, 21, 30),  # 29 Mar 23:30 local (UTC+2)
            "after": utc(2026, 3, 29, 22, 30),  # 30 Mar 00:30 local (UTC+2)
        },
    ),
}
INSIDE = ["first", "last"]


def _count(html: str) -> int:
    """The total a list page states under its title ("3 llamadas")."""
    head = html[html.index('class="page-head"') :]
    match = re.search(r'<span class="muted">\s*(\d[\d.]*)', head)
    assert match, head[:400]
    return int(match.group(1).replace(".", ""))


async def _page(http, url: str) -> str:
    async with http.get(url) as resp:
        assert resp.status == 200, (url, resp.status)
        return await resp.text()


@pytest.mark.parametrize("case", list(CASES))
async def test_from_and_to_one_day_list_that_day_of_the_user(world, world_server, http, case):
    zone, (day, moments) = case.removesuffix("/dst"), CASES[case]
    await User.filter(id=world.luis.id).update(time_zone=zone)
    luis = await User.get(id=world.luis.id).prefetch_related("group")
    directory = await CallerDirectory.load()
    for n, (name, at) in enumerate(moments.items()):
        when = FixedClock(at)
        # The caller is a known client: the call makes no lead of its own.
        await create_client(
            luis,
            ClientInput(name=f"Llamante {name}", phones=[f"60011122{n}"]),
            clock=FixedClock(at - timedelta(days=60)),
        )
        await directory.record_call(
            CallRecord(
                linkedid=f"c.{name}",
                direction="in",
                from_number=f"60011122{n}",
                to_number="900100200",
                started_at=at,
                result="answered",
                agent_extension="101",
            ),
            clock=when,
        )
        await create_task(luis, TaskInput(title=f"Tarea {name}", due_at=at), clock=when)
        await create_client(luis, ClientInput(name=f"Cliente {name}"), clock=when)
        await create_lead(luis, LeadInput(name=f"Lead {name}"), clock=when)

    await http_login(http, world_server.url, "luis", world.password)
    base = world_server.url
    days = f"from={day}&to={day}"
    calls = await _page(http, f"{base}/calls?{days}")
    assert _count(calls) == 2
    listed = set(re.findall(r"60011122(\d)", calls))
    assert listed == {str(list(moments).index(name)) for name in INSIDE}
    tasks = await _page(http, f"{base}/tasks?status=any&{days}")
    assert _count(tasks) == 2 and "Tarea first" in tasks and "Tarea last" in tasks
    assert "Tarea after" not in tasks and "Tarea before" not in tasks
    clients = await _page(http, f"{base}/clients?{days}")
    assert _count(clients) == 2 and "Cliente after" not in clients
    leads = await _page(http, f"{base}/leads?view=mine&{days}")
    assert _count(leads) == 2 and "Lead before" not in leads

    # The export holds what the list shows, its times on the user's clock.
    await User.filter(id=world.luis.id).update(group_id=world.ana.group_id)  # may export
    async with http.get(f"{base}/export/leads.csv?view=mine&{days}") as resp:
        assert resp.status == 200
        rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    names = {r[1]: r[-1] for r in rows[1:]}  # name -> created at (the last column)
    assert set(names) == {"Lead first", "Lead last"}
    assert names["Lead first"] == f"{day} 00:30"
    assert names["Lead last"] == f"{day} 23:30"


async def test_a_date_that_is_not_one_is_refused_naming_the_filter(world, world_server, http):
    await http_login(http, world_server.url, "luis", world.password)
    async with http.get(f"{world_server.url}/calls?from=25-11-2026") as resp:
        assert resp.status == 422
        assert "se esperaba una fecha como 2026-11-25" in await resp.text()
    async with http.get(f"{world_server.url}/tasks?from=2026-11-26&to=2026-11-25") as resp:
        assert resp.status == 422
        assert "el fin del periodo debe ser posterior a su inicio" in await resp.text()
    # The calls page's "today" is the user's today too (Madrid: from 24 Nov 23:00 UTC).
    directory = await CallerDirectory.load()
    for n, at in enumerate([utc(2026, 11, 24, 22, 59), utc(2026, 11, 24, 23, 1)]):
        number = f"60099988{n}"
        await create_client(world.luis, ClientInput(name=f"Llamante {n}", phones=[number]))
        await directory.record_call(
            CallRecord(
                linkedid=f"t.{n}",
                direction="in",
                from_number=number,
                to_number="900100200",
                started_at=at,
                result="answered",
                agent_extension="101",
            ),
            clock=FixedClock(at + timedelta(minutes=1)),
        )
    today = await _page(http, f"{world_server.url}/calls?period=today")
    assert _count(today) == 1 and "600999881" in today
