"""What an agent may not see is never named, and answers exactly like what does not exist.

Luis (an agent) meets Marta's client, lead, deal, task, call and dialer list: every page and
action answers 404 with the same words as for an id nobody has, so ids cannot be probed;
the dialer and the forms refuse her client without naming it. Ana (an admin) may see it, and
is told whose it is.
"""

from __future__ import annotations

from datetime import timedelta

from models.contacts import clients as client_ops
from models.sales import deals as deal_ops
from models.sales import leads as lead_ops
from models.schema.calls import Call
from models.schema.clients import Client
from models.schema.dialer import DialerList
from models.schema.leads import Lead
from models.work import tasks as task_ops
from tests.web.conftest import csrf_from, http_login

MISSING = 999_999
JSON = {"Accept": "application/json"}


def _said(html: str) -> str:
    """What an error page says (the rest of a page carries per-request tokens)."""
    return html[html.index('<section class="error-page">') : html.index("</section>")]


async def _marta_s(world, clock) -> dict[str, int]:
    client = await client_ops.create_client(
        world.marta,
        client_ops.ClientInput(name="Hostal De Marta", phones=["+34 911 222 333"]),
        clock=clock,
    )
    lead = await lead_ops.create_lead(
        world.marta, lead_ops.LeadInput(name="Lead De Marta"), clock=clock
    )
    deal = await deal_ops.create_deal(world.marta, client.id, "Trato De Marta", "5", clock=clock)
    task = await task_ops.create_task(
        world.marta,
        task_ops.TaskInput(title="Tarea De Marta", due_at=clock.now() + timedelta(hours=2)),
        clock=clock,
    )
    call = await Call.create(
        direction="in", from_number="+34911222333", result="answered", agent=world.marta,
        client=client, started_at=clock.now(), recording_path="marta.wav",
    )  # fmt: skip
    dialer = await DialerList.create(
        name="Lista De Marta", owner=world.marta, created_at=clock.now()
    )
    return {
        "client": client.id,
        "lead": lead.id,
        "deal": deal.id,
        "task": task.id,
        "call": call.id,
        "dialer": dialer.id,
    }


PAGES = {
    "client": ("/clients/{}", "/clients/{}/edit", "/deals/new?client_id={}"),
    "lead": ("/leads/{}",),
    "deal": ("/deals/{}",),
    "task": ("/tasks/{}",),
    "call": ("/calls/{}/recording",),
    "dialer": ("/dialer/{}",),
}


async def test_another_agents_records_answer_exactly_like_missing_ones(
    world_server, world, clock, http
):
    ids = await _marta_s(world, clock)
    url = world_server.url
    await http_login(http, url, "luis", world.password)
    for kind, pages in PAGES.items():
        for page in pages:
            async with http.get(url + page.format(MISSING)) as resp:
                assert resp.status == 404, page
                missing = await resp.text()
            async with http.get(url + page.format(ids[kind])) as resp:
                assert resp.status == 404, page
                hers = await resp.text()
            assert _said(hers) == _said(missing), page
            assert "De Marta" not in hers
    async with http.get(f"{url}/dialer/{ids['dialer']}", headers=JSON) as resp:
        assert (resp.status, await resp.json()) == (404, {"error": "Esta página no existe."})
    # Acting on them: the same 404, and nothing done.
    async with http.get(f"{url}/clients") as resp:
        token = csrf_from(await resp.text())
    for path in (
        f"/clients/{ids['client']}/notes",
        f"/clients/{ids['client']}/delete",
        f"/leads/{ids['lead']}/close",
        f"/deals/{ids['deal']}/delete",
        f"/tasks/{ids['task']}/done",
        f"/dialer/{ids['dialer']}/start",
    ):
        async with http.post(url + path, data={"csrf_token": token, "text": "hola"}) as resp:
            assert resp.status == 404, path
            assert _said(await resp.text()) == _said(missing)
    assert await Client.exists(id=ids["client"])
    assert (await Lead.get(id=ids["lead"])).status == "open"
    assert (await DialerList.get(id=ids["dialer"])).status == "idle"


async def test_the_dialer_and_the_forms_do_not_name_a_client_the_user_may_not_see(
    world_server, world, clock, http
):
    ids = await _marta_s(world, clock)
    url = world_server.url
    await http_login(http, url, "luis", world.password)
    async with http.get(f"{url}/clients/new") as resp:
        token = csrf_from(await resp.text())
    headers = {"X-CSRF-Token": token, **JSON}
    answers = []
    for client_id in (ids["client"], MISSING):
        async with http.post(
            f"{url}/api/dialer/lists", json={"client_ids": [client_id]}, headers=headers
        ) as resp:
            assert resp.status == 422
            answers.append((await resp.json())["fields"])
    assert answers == [
        {"client_ids": f"no se encuentra el cliente {ids['client']}"},
        {"client_ids": f"no se encuentra el cliente {MISSING}"},
    ]
    assert await DialerList.filter(owner=world.luis).count() == 0

    # Her client's number in Luis's client form and lead form: taken, not said by whom.
    for form_path in ("/clients/new", "/leads/new"):
        form = {"csrf_token": token, "name": "Otro", "phones": "911 222 333"}
        async with http.post(url + form_path, data=form) as resp:
            assert resp.status == 422, form_path
            page = await resp.text()
        assert "el número +34911222333 ya pertenece a otro cliente" in page, form_path
        assert "De Marta" not in page and f"#{ids['client']}" not in page

    http.cookie_jar.clear()
    await http_login(http, url, "ana", world.password)  # an admin sees every client
    async with http.get(f"{url}/clients/new") as resp:
        token = csrf_from(await resp.text())
    form = {"csrf_token": token, "name": "Otro", "phones": "911 222 333"}
    async with http.post(f"{url}/clients/new", data=form) as resp:
        assert resp.status == 422
        page = await resp.text()
    said = f"el número +34911222333 pertenece al cliente Hostal De Marta (#{ids['client']})"
    assert said in page
