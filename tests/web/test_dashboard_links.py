"""Every dashboard figure opens the list of what it counts, and that list counts the same
(issue 14, item 10: "Tareas caducadas 79" opened a list of 96), for an admin and an agent.

The world: Wednesday 25 November 2026, 11:00 in Madrid (the users' zone); the week runs from
Monday 23 to Sunday 29.
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime, timedelta

import pytest

from models.contacts.clients import ClientInput, create_client
from models.core.clock import FixedClock
from models.sales.leads import LeadInput, convert_lead, create_lead
from models.telephony.call_record import CallRecord
from models.telephony.caller_directory import CallerDirectory
from models.work.tasks import TaskInput, complete_task, create_task
from tests.web.conftest import http_login

WED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SUNDAY_LATE = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # Sun 23:30 in Madrid: last week
MONDAY_EARLY = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # Mon 00:30 in Madrid: this week
FIGURE = re.compile(r'<a href="([^"]+)" data-figure="(\w+)">([\d.]+)</a>')


async def _world(world, clock) -> None:
    at = FixedClock
    luis, marta, ana = world.luis, world.marta, world.ana
    for who, name, when in [
        (luis, "Cliente viejo", SUNDAY_LATE),
        (luis, "Cliente del lunes", MONDAY_EARLY),
        (luis, "Cliente de hoy", WED),
        (marta, "Cliente de Marta", WED),
    ]:
        await create_client(who, ClientInput(name=name), clock=at(when))
    await create_client(None, ClientInput(name="Cliente sin responsable"), clock=at(WED))

    await create_lead(luis, LeadInput(name="Lead de Luis"), clock=clock)
    converted = await create_lead(luis, LeadInput(name="Lead convertido"), clock=clock)
    await convert_lead(luis, converted.id, clock=clock)
    await create_lead(marta, LeadInput(name="Lead sin atender"), unhandled=True, clock=clock)
    await create_lead(marta, LeadInput(name="Lead antiguo"), clock=at(SUNDAY_LATE))

    def task(title: str, due: datetime, assignees=()) -> TaskInput:
        return TaskInput(title=title, due_at=due, assignee_ids=list(assignees))

    done = await create_task(luis, task("Hecha el lunes", MONDAY_EARLY), clock=clock)
    await complete_task(luis, done.id, clock=clock)
    await create_task(luis, task("Caducada", WED - timedelta(hours=1)), clock=clock)
    await create_task(luis, task("Esta tarde", WED + timedelta(hours=2)), clock=clock)
    await create_task(luis, task("Esta noche", datetime(2026, 11, 25, 22, 30, tzinfo=UTC)))
    await create_task(luis, task("Mañana temprano", datetime(2026, 11, 25, 23, 30, tzinfo=UTC)))
    await create_task(luis, task("La semana que viene", WED + timedelta(days=7)), clock=clock)
    # Written by Ana for Marta: Ana's list of "my tasks" holds it, so her figures count it.
    await create_task(ana, task("Encargo a Marta", WED - timedelta(days=1), [marta.id]))

    directory = await CallerDirectory.load()
    for n, (direction, when, ext) in enumerate(
        [
            ("in", WED - timedelta(hours=1), "101"),
            ("out", WED - timedelta(hours=2), "101"),
            ("in", MONDAY_EARLY, "101"),
            ("in", WED - timedelta(minutes=5), "100"),
        ]
    ):
        number = f"60000000{n}"
        await create_client(
            ana,
            ClientInput(name=f"Llamante {n}", phones=[number]),
            clock=at(WED - timedelta(days=60)),
        )
        await directory.record_call(
            CallRecord(
                linkedid=f"d.{n}",
                direction=direction,
                from_number=number if direction == "in" else ext,
                to_number="900100200" if direction == "in" else number,
                started_at=when,
                result="answered",
                agent_extension=ext,
            ),
            clock=clock,
        )


def _count(page: str) -> int:
    head = page[page.index('class="page-head"') :]
    match = re.search(r'<span class="muted">\s*(\d[\d.]*)', head)
    assert match, head[:400]
    return int(match.group(1).replace(".", ""))


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (
            "luis",  # an agent: his clients and the unassigned ones, his tasks and calls
            {
                # Old, Monday's, today's, the unassigned one and the converted lead.
                "clients_total": 5,
                "clients_new_week": 4,
                "clients_new_today": 3,
                "leads_handled": 1,
                "leads_unhandled": 1,
                "leads_new_today": 3,  # his two (one converted since) and the unhandled one
                "tasks_week_done": 1,
                "tasks_week_total": 5,
                "tasks_overdue": 1,
                "tasks_current": 2,
                "calls_in_today": 1,
                "calls_out_today": 1,
                "calls_in_week": 2,
                "calls_out_week": 1,
            },
        ),
        (
            "ana",  # an admin: everyone's clients and leads; her own tasks and calls
            {
                "clients_total": 10,
                "clients_new_today": 4,
                "leads_new_week": 3,
                "tasks_overdue": 1,  # the task she wrote for Marta
                "tasks_current": 0,
                "calls_in_today": 1,
            },
        ),
    ],
)
async def test_each_figure_equals_the_count_of_the_list_it_opens(
    world, world_server, http, clock, who, expected
):
    await _world(world, clock)
    await http_login(http, world_server.url, who, world.password)
    async with http.get(f"{world_server.url}/") as resp:
        dashboard = await resp.text()
    figures = {key: (html_lib.unescape(href), int(n)) for href, key, n in FIGURE.findall(dashboard)}
    assert len(figures) == 15, sorted(figures)
    for key, value in expected.items():
        assert figures[key][1] == value, key
    for key, (href, number) in figures.items():
        async with http.get(f"{world_server.url}{href}") as resp:
            assert resp.status == 200, (key, href)
            assert _count(await resp.text()) == number, (key, href)
