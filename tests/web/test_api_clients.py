"""/api/v1/clients as a program sees it: Ana's token (admin) sees every client, Luis's (an
agent) only his own and nobody's, and Marta's client answers him exactly like a missing one.
Lists page with a cursor; every wrong input is a problem naming its field."""

from __future__ import annotations

from models.contacts import clients as client_ops
from models.schema.clients import Client
from tests.web.api_support import api, token_of

MISSING = 999_999


async def _clients(world, clock) -> dict[str, int]:
    made = {}
    for owner, name, phone, status, tags in (
        (world.luis, "Bodega Luis", "+34 600 000 001", "active", ["vino"]),
        (world.luis, "Asesoría Luis", "+34 600 000 002", "potential", []),
        (world.marta, "Hostal Marta", "+34 600 000 003", "active", ["vino"]),
        (world.ana, "Zapatería Ana", "+34 600 000 004", "inactive", []),
    ):
        client = await client_ops.create_client(
            owner,
            client_ops.ClientInput(name=name, phones=[phone], status=status, tags=tags),
            clock=clock,
        )
        made[name] = client.id
    nobody = await client_ops.create_client(
        None, client_ops.ClientInput(name="Cliente De Nadie"), clock=clock
    )
    made["Cliente De Nadie"] = nobody.id
    return made


async def _all_pages(http, url, token, query: str) -> tuple[list[str], int]:
    names: list[str] = []
    pages = 0
    cursor = None
    while True:
        path = f"/clients?{query}" + (f"&cursor={cursor}" if cursor else "")
        status, body, _ = await api(http, url, "GET", path, token)
        assert status == 200, body
        names += [c["name"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return names, pages


async def test_admin_pages_through_every_client_with_a_cursor(world, world_server, http, clock):
    made = await _clients(world, clock)
    token = await token_of(world.ana, clock, scope="read")
    names, pages = await _all_pages(http, world_server.url, token, "limit=2&sort=name")
    assert names == sorted(made, key=lambda n: n.lower().replace("ó", "o"))
    assert pages == 3
    names, _ = await _all_pages(http, world_server.url, token, "limit=3")
    assert names == list(reversed(made))  # newest first by default


async def test_an_agent_lists_only_what_the_panel_shows_him(world, world_server, http, clock):
    await _clients(world, clock)
    token = await token_of(world.luis, clock, scope="read")
    url = world_server.url
    names, _ = await _all_pages(http, url, token, "limit=50&sort=name")
    assert names == ["Asesoría Luis", "Bodega Luis", "Cliente De Nadie"]
    # The panel's own list, by the same domain function, agrees.
    rows, _ = await client_ops.list_clients(world.luis)
    assert sorted(c.name for c in rows) == sorted(names)
    names, _ = await _all_pages(http, url, token, "tag=vino")
    assert names == ["Bodega Luis"]
    names, _ = await _all_pages(http, url, token, "q=600000002")
    assert names == ["Asesoría Luis"]
    names, _ = await _all_pages(http, url, token, "status=potential")
    assert names == ["Asesoría Luis"]
    names, _ = await _all_pages(http, url, token, "mine=true")
    assert names == ["Asesoría Luis", "Bodega Luis"]
    names, _ = await _all_pages(http, url, token, f"responsible_id={world.marta.id}")
    assert names == []


async def test_another_agents_client_answers_like_a_missing_one(world, world_server, http, clock):
    made = await _clients(world, clock)
    url = world_server.url
    luis = await token_of(world.luis, clock)
    hidden = made["Hostal Marta"]
    answers = {}
    for method, body in (("GET", None), ("PATCH", {"name": "Mío"}), ("DELETE", None)):
        for record in (hidden, MISSING):
            status, problem, _ = await api(http, url, method, f"/clients/{record}", luis, json=body)
            answers[method, record] = (status, problem["detail"].replace(str(record), "N"))
        assert answers[method, hidden] == answers[method, MISSING]
        assert answers[method, hidden][0] == 404
        assert "Marta" not in answers[method, hidden][1]
    assert await Client.get(id=hidden).values_list("name", flat=True) == "Hostal Marta"
    # Ana sees it, with its custom values.
    ana = await token_of(world.ana, clock)
    status, body, _ = await api(http, url, "GET", f"/clients/{hidden}", ana)
    assert status == 200
    assert body["name"] == "Hostal Marta" and body["phones"] == ["+34 600 000 003"]
    assert body["responsible_id"] == world.marta.id and body["custom"] == {}


async def test_create_change_and_delete_a_client(world, world_server, http, clock):
    url = world_server.url
    token = await token_of(world.luis, clock)
    status, body, headers = await api(
        http, url, "POST", "/clients", token,
        json={"name": "Taller Ruiz", "phones": ["611 22 33 44"], "emails": ["taller@ruiz.es"],
              "tags": ["api"], "status": "potential"},
    )  # fmt: skip
    assert status == 201, body
    assert headers["Location"] == f"/api/v1/clients/{body['id']}"
    assert body["responsible_id"] == world.luis.id and body["tags"] == ["api"]
    client_id = body["id"]
    shown = await client_ops.get_client(world.luis, client_id)  # as the panel's card reads it
    assert shown.name == "Taller Ruiz" and shown.phones[0].e164 == "+34611223344"

    status, body, _ = await api(
        http, url, "PATCH", f"/clients/{client_id}", token, json={"company_name": "Ruiz SL"}
    )
    assert status == 200, body
    assert body["company_name"] == "Ruiz SL"
    assert body["name"] == "Taller Ruiz" and body["emails"] == ["taller@ruiz.es"]
    assert body["tags"] == ["api"] and body["status"] == "potential"

    status, body, _ = await api(http, url, "DELETE", f"/clients/{client_id}", token)
    assert status == 204 and body is None
    assert not await Client.exists(id=client_id)
    assert (await api(http, url, "GET", f"/clients/{client_id}", token))[0] == 404


async def test_wrong_input_is_a_problem_naming_the_field(world, world_server, http, clock):
    url = world_server.url
    token = await token_of(world.luis, clock)
    cases = [
        ({"name": ""}, "name"),
        ({"name": "A", "status": "vip"}, "status"),
        ({"name": "A", "nickname": "x"}, "nickname"),
        ({"name": "A", "phones": ["no es un número"]}, "phones"),
        ({"name": "A", "emails": ["no-es-un-email"]}, "emails"),
        ({"name": "A", "responsible_id": MISSING}, "responsible_id"),
        ([1, 2], "body"),
    ]
    for body, field in cases:
        status, problem, _ = await api(http, url, "POST", "/clients", token, json=body)
        assert (status, problem["field"]) == (422, field), (body, problem)
        assert problem["detail"]
    status, problem, _ = await api(
        http, url, "POST", "/clients", token, data="{not json",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert (status, problem["field"]) == (400, "body")
    status, problem, _ = await api(http, url, "POST", "/clients", token, data="name=A")
    assert status == 415
    status, problem, _ = await api(http, url, "GET", "/clients?limit=0", token)
    assert (status, problem["field"]) == (422, "limit")
    status, problem, _ = await api(http, url, "GET", "/clients?sort=phone", token)
    assert (status, problem["field"]) == (422, "sort")
    status, problem, _ = await api(http, url, "GET", "/clients?cursor=bm9wZQ", token)
    assert (status, problem["field"]) == (422, "cursor")
    status, problem, _ = await api(http, url, "GET", "/clients?colour=red", token)
    assert (status, problem["field"]) == (422, "colour")
    assert await Client.all().count() == 0


async def test_a_taken_phone_is_a_conflict_that_names_no_hidden_client(
    world, world_server, http, clock
):
    await _clients(world, clock)
    token = await token_of(world.luis, clock)
    status, problem, _ = await api(
        http, world_server.url, "POST", "/clients", token,
        json={"name": "Copia", "phones": ["+34 600 000 003"]},
    )  # fmt: skip
    assert status == 409
    assert problem["field"] == "phones"
    assert "Hostal" not in problem["detail"]


async def test_odd_paths_answer_404_problems(world, world_server, http, clock):
    token = await token_of(world.ana, clock)
    for path in (f"/clients/{2**40}", "/clients/0", "/clients/abc", "/nothing-here"):
        status, problem, _ = await api(http, world_server.url, "GET", path, token)
        assert status == 404, path


async def test_pages_by_name_keep_every_client_once_when_names_repeat(
    world, world_server, http, clock
):
    """Five clients share a name: the name cursor must go on by id within the tie, both ways,
    neither repeating nor skipping one (the keyset is name, then id)."""
    ids = []
    for _ in range(5):
        client = await client_ops.create_client(
            world.ana, client_ops.ClientInput(name="Bar Central"), clock=clock
        )
        ids.append(client.id)
    for name in ("Abacería", "Zumos"):
        await client_ops.create_client(world.ana, client_ops.ClientInput(name=name), clock=clock)
    token = await token_of(world.ana, clock, scope="read")
    url = world_server.url
    status, body, _ = await api(http, url, "GET", "/clients?limit=100&sort=name", token)
    every = [c["id"] for c in body["items"]]
    for order in ("name", "-name"):
        seen: list[int] = []
        cursor = None
        while True:
            path = f"/clients?limit=2&sort={order}" + (f"&cursor={cursor}" if cursor else "")
            status, body, _ = await api(http, url, "GET", path, token)
            assert status == 200, body
            seen += [c["id"] for c in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(every) and len(seen) == len(set(seen)) == 7
        names = [n for n in [await Client.get(id=i).values_list("name", flat=True) for i in seen]]
        assert names == sorted(names, reverse=order == "-name")
        assert [i for i in seen if i in ids] == sorted(ids, reverse=order == "-name")
