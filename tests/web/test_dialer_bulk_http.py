"""Auto-dialer lists from the clients and leads lists over HTTP (issue 14 item 5): ticked rows,
"all N matching the filters" resolved on the server within what the user may see, the cap,
the list's progress as JSON, and a dialed call's page (404 for a call one may not see)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from models.contacts.clients import ClientInput, create_client
from models.sales import selection
from models.sales.leads import LeadInput, close_lead, create_lead
from models.schema.calls import Call
from models.schema.dialer import DialerEntry, DialerList
from models.telephony import dialer as dialer_ops
from tests.web.conftest import csrf_from, http_login


async def _token(http, url: str) -> str:
    async with http.get(f"{url}/clients") as resp:
        return csrf_from(await resp.text())


async def _post(http, url: str, data: dict) -> tuple[int, str]:
    """POST, not following the redirect: (status, Location)."""
    async with http.post(url, data=data, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", "")


async def _numbers(list_id: int) -> list[tuple[str, int | None, int | None]]:
    rows = await DialerEntry.filter(dialer_list_id=list_id).order_by("position")
    return [(e.e164, e.client_id, e.lead_id) for e in rows]


async def test_ticked_leads_make_a_list_whose_entries_name_the_leads(world, world_server, http):
    first = await create_lead(world.luis, LeadInput(name="Bodega Sur", phones=["+34911000001"]))
    second = await create_lead(world.luis, LeadInput(name="Hotel Mar", phones=["+34911000002"]))
    await http_login(http, world_server.url, "luis", world.password)
    async with http.get(f"{world_server.url}/leads") as resp:
        page = await resp.text()
    assert 'action="/leads/bulk-dialer"' in page
    assert f'name="lead_ids" value="{first.id}" form="leads-bulk"' in page
    status, location = await _post(
        http,
        f"{world_server.url}/leads/bulk-dialer",
        {"csrf_token": csrf_from(page), "lead_ids": [str(second.id), str(first.id)]},
    )
    assert status == 303 and re.fullmatch(r"/dialer/\d+", location)
    dialer = await DialerList.get(owner_id=world.luis.id)
    assert location == f"/dialer/{dialer.id}"
    assert await _numbers(dialer.id) == [
        ("+34911000002", None, second.id),
        ("+34911000001", None, first.id),
    ]
    async with http.get(f"{world_server.url}{location}") as resp:
        shown = await resp.text()
    assert f'href="/leads/{first.id}">Bodega Sur</a>' in shown

    # Nothing ticked (or only what cannot be an id): back to the list with the reason.
    status, location = await _post(
        http,
        f"{world_server.url}/leads/bulk-dialer",
        {"csrf_token": csrf_from(page), "lead_ids": ["99999999999999", "-1", "x", "٣"]},
    )
    assert (status, location) == (303, "/leads")
    async with http.get(f"{world_server.url}/leads") as resp:
        assert "Selecciona al menos un lead." in await resp.text()
    assert await DialerList.all().count() == 1


async def test_all_matching_takes_every_filtered_client_the_agent_may_see(
    world, world_server, http
):
    mine = [
        await create_client(
            world.ana,
            ClientInput(
                name=f"VIP {n}",
                phones=[f"+3491100010{n}"],
                tags=["vip"],
                responsible_id=world.luis.id,
            ),
        )
        for n in range(3)
    ]
    # Marta's VIP client (Luis may not see it) and Luis's client without the tag stay out.
    await create_client(
        world.ana,
        ClientInput(
            name="VIP Marta", phones=["+34911000200"], tags=["vip"], responsible_id=world.marta.id
        ),
    )
    await create_client(
        world.ana,
        ClientInput(name="Plain", phones=["+34911000300"], responsible_id=world.luis.id),
    )
    await http_login(http, world_server.url, "luis", world.password)
    token = await _token(http, world_server.url)
    status, location = await _post(
        http,
        f"{world_server.url}/clients/bulk-dialer",
        {"csrf_token": token, "all_matching": "1", "filters": "view=all&tag=vip&page=1"},
    )
    assert status == 303 and location.startswith("/dialer/")
    dialer = await DialerList.get(owner_id=world.luis.id)
    # Newest first, as the list shows them.
    assert await _numbers(dialer.id) == [
        ("+34911000102", mine[2].id, None),
        ("+34911000101", mine[1].id, None),
        ("+34911000100", mine[0].id, None),
    ]


async def test_all_matching_takes_the_leads_the_list_shows_for_its_status_and_dates(
    world, world_server, http, clock
):
    """The page's status tab ("any": closed leads too) and its created dates select the rows
    "all matching" takes, as they select the rows the page lists."""
    clock.set(datetime(2026, 11, 10, 10, 0, tzinfo=UTC))
    await create_lead(world.luis, LeadInput(name="Old", phones=["+34911000401"]), clock=clock)
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    closed = await create_lead(
        world.luis, LeadInput(name="Closed", phones=["+34911000402"]), clock=clock
    )
    await close_lead(world.luis, closed.id)
    await create_lead(world.luis, LeadInput(name="Open", phones=["+34911000403"]), clock=clock)
    await http_login(http, world_server.url, "luis", world.password)
    filters = "view=mine&status=any&from=2026-11-20&to=2026-11-30"
    async with http.get(f"{world_server.url}/leads?{filters}") as resp:
        page = await resp.text()
    assert "Closed" in page and "Open" in page and ">Old<" not in page
    status, _ = await _post(
        http,
        f"{world_server.url}/leads/bulk-dialer",
        {"csrf_token": csrf_from(page), "all_matching": "1", "filters": filters},
    )
    assert status == 303
    dialer = await DialerList.get(owner_id=world.luis.id)
    assert [n for n, _, _ in await _numbers(dialer.id)] == ["+34911000403", "+34911000402"]


async def test_all_matching_over_the_cap_is_refused_with_the_reason(
    world, world_server, http, monkeypatch
):
    monkeypatch.setattr(selection, "MAX_SELECTED", 2)
    for n in range(3):
        await create_client(world.luis, ClientInput(name=f"Cliente {n}", tags=["feria"]))
    await http_login(http, world_server.url, "luis", world.password)
    token = await _token(http, world_server.url)
    status, location = await _post(
        http,
        f"{world_server.url}/clients/bulk-dialer",
        {"csrf_token": token, "all_matching": "1", "filters": "tag=feria"},
    )
    assert (status, location) == (303, "/clients?tag=feria")
    async with http.get(f"{world_server.url}{location}") as resp:
        page = await resp.text()
    assert "más de 2 clientes cumplen estos filtros: acótalos" in page
    assert await DialerList.all().count() == 0
    # Within the cap: the list is made.
    monkeypatch.setattr(selection, "MAX_SELECTED", 3)
    status, location = await _post(
        http,
        f"{world_server.url}/clients/bulk-dialer",
        {"csrf_token": token, "all_matching": "1", "filters": "tag=feria"},
    )
    assert status == 303 and location.startswith("/dialer/")
    assert await DialerEntry.all().count() == 3


async def test_the_list_page_answers_its_progress_as_json_and_pages_its_numbers(
    world, world_server, http, clock
):
    numbers = [f"+349110{n:05d}" for n in range(130)]
    dialer = await dialer_ops.create_list(world.luis, "Feria", clock=clock, numbers=numbers)
    entries = await DialerEntry.filter(dialer_list_id=dialer.id).order_by("position")
    call = await Call.create(
        direction="out",
        to_number=numbers[0],
        agent_id=world.luis.id,
        agent_extension="101",
        result="answered",
        started_at=clock.now(),
    )
    await DialerEntry.filter(id=entries[0].id).update(
        state="done", result="answered", call_id=call.id
    )
    await DialerEntry.filter(id=entries[1].id).update(state="done", result="busy")
    await DialerEntry.filter(id=entries[2].id).update(state="dialing")
    await http_login(http, world_server.url, "luis", world.password)
    url = f"{world_server.url}/dialer/{dialer.id}"
    async with http.get(url, headers={"Accept": "application/json"}) as resp:
        body = await resp.json()
    assert (body["done"], body["answered"], body["pending"], body["skipped"]) == (2, 1, 127, 0)
    assert body["progress"] == "2 llamados (1 atendidos), 127 por marcar, 0 omitidos"
    assert body["is_live"] is True
    assert body["dialing"]["number"] == numbers[2]
    assert len(body["entries"]) == 100 and body["entries"][0]["call_url"] == f"/calls/{call.id}"
    async with http.get(f"{url}?page=2", headers={"Accept": "application/json"}) as resp:
        second = await resp.json()
    assert [e["number"] for e in second["entries"]] == numbers[100:]
    async with http.get(url) as resp:
        page = await resp.text()
    assert page.count("<tr data-entry=") == 100 and "Página 1 de 2" in page
    assert f'<a href="/calls/{call.id}">llamada</a>' in page
    async with http.get(f"{world_server.url}/dialer") as resp:
        index = await resp.text()
    assert f'href="/dialer/{dialer.id}">Feria</a>' in index


async def test_a_dialed_call_has_a_page_and_one_not_visible_answers_like_a_missing_one(
    world, world_server, http, clock
):
    call = await Call.create(
        direction="out",
        to_number="+34911000001",
        agent_id=world.luis.id,
        agent_extension="101",
        result="answered",
        started_at=clock.now() - timedelta(minutes=5),
        talk_seconds=75,
        transcript="Buenos días, le llamo por la feria",
    )
    await http_login(http, world_server.url, "luis", world.password)
    async with http.get(f"{world_server.url}/calls/{call.id}") as resp:
        assert resp.status == 200
        page = await resp.text()
    assert "+34911000001" in page and "1:15" in page and "le llamo por la feria" in page

    http.cookie_jar.clear()
    await http_login(http, world_server.url, "marta", world.password)
    async with http.get(f"{world_server.url}/calls/{call.id}") as resp:
        foreign = (resp.status, _main(await resp.text()))
    async with http.get(f"{world_server.url}/calls/{call.id + 1000}") as resp:
        missing = (resp.status, _main(await resp.text()))
    assert foreign == missing and foreign[0] == 404
    assert "+34911000001" not in foreign[1]


def _main(page: str) -> str:
    """The page's own content (without the CSRF token, which differs per response)."""
    match = re.search(r"<main.*?</main>", page, re.S)
    return match.group(0) if match else page
