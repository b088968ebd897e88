"""A few clients, leads, deals, tasks and calls with known names, owners and dates, so that a
test can write the order each list column gives by hand (tests of sorting and pagers).

Users sort by name: Ana García, Luis Pérez, Marta Núñez, then rows without a user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from models.contacts import clients as client_ops
from models.sales import deals as deal_ops
from models.sales import leads as lead_ops
from models.schema.calls import Call
from models.schema.clients import Client
from models.schema.deals import Deal
from models.schema.leads import Lead
from models.schema.tasks import Task
from models.work import tasks as task_ops

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

# name, responsible (a World attribute or None), created this many days after T0
CLIENTS = [
    ("Beatriz Alba", "luis", 3),
    ("Álvaro Núñez", "marta", 1),
    ("Carmen Díaz", None, 5),
    ("david Ortiz", "ana", 2),  # lower case: names sort without regard to case and accents
    ("Elena Ruiz", "luis", 4),
    ("Zoe Zamora", "ana", 0),
]
LEADS = [("Lead Marbella", "luis", 2), ("lead Alicante", "marta", 0), ("Lead Cádiz", None, 1)]
# title, amount, responsible, created day
DEALS = [
    ("Contrato anual", "250.00", "luis", 1),
    ("Auditoría", "1200.00", "marta", 2),
    ("Mantenimiento", "80.50", "ana", 0),
]
# title, due day, created day (due and creation orders differ)
TASKS = [("Llamar a Beatriz", 2, 2), ("Enviar factura", 1, 0), ("Revisar contrato", 3, 1)]
# number, agent, started this many hours after T0
CALLS = [
    ("+34600000001", "luis", 1),
    ("+34600000002", "ana", 3),
    ("+34600000003", None, 2),
    ("+34600000004", "marta", 4),
]


@dataclass
class ListWorld:
    """Ids by name (calls by number), to find the rows a page shows."""

    clients: dict[str, int] = field(default_factory=dict)
    leads: dict[str, int] = field(default_factory=dict)
    deals: dict[str, int] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)


def _user_id(world, who: str | None) -> int | None:
    return getattr(world, who).id if who else None


async def seed(world) -> ListWorld:
    made = ListWorld()
    for name, who, day in CLIENTS:
        # All but Zoe work at Norte S.L. (a search that finds several).
        company = "" if name == "Zoe Zamora" else "Norte S.L."
        data = client_ops.ClientInput(name=name, company_name=company)
        client = await client_ops.create_client(world.ana, data)
        await Client.filter(id=client.id).update(
            responsible_id=_user_id(world, who), created_at=T0 + timedelta(days=day)
        )
        made.clients[name] = client.id
    for name, who, day in LEADS:
        lead = await lead_ops.create_lead(world.ana, lead_ops.LeadInput(name=name))
        await Lead.filter(id=lead.id).update(
            responsible_id=_user_id(world, who), created_at=T0 + timedelta(days=day)
        )
        made.leads[name] = lead.id
    owner = made.clients["Beatriz Alba"]
    for title, amount, who, day in DEALS:
        deal = await deal_ops.create_deal(world.ana, owner, title, amount, "EUR")
        await Deal.filter(id=deal.id).update(
            responsible_id=_user_id(world, who), created_at=T0 + timedelta(days=day)
        )
        made.deals[title] = deal.id
    for title, due, day in TASKS:
        task = await task_ops.create_task(
            world.ana, task_ops.TaskInput(title=title, due_at=T0 + timedelta(days=30 + due))
        )
        await Task.filter(id=task.id).update(created_at=T0 + timedelta(days=day))
        made.tasks[title] = task.id
    for number, who, hours in CALLS:
        call = await Call.create(
            direction="in",
            from_number=number,
            to_number="900100200",
            agent_id=_user_id(world, who),
            result="answered" if who else "missed",
            started_at=T0 + timedelta(hours=hours),
        )
        made.calls[number] = call.id
    return made
