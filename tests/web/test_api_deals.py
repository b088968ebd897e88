"""/api/v1/deals: Luis opens a deal for his client, moves it through the funnel (its history
says so, as in the panel), pages through the list, and meets Marta's deals only as 404."""

from __future__ import annotations

from models.contacts import clients as client_ops
from models.sales import deals as deal_ops
from models.schema.deals import Deal
from tests.web.api_support import api, token_of


async def test_open_move_and_delete_a_deal(world, world_server, http, clock):
    url = world_server.url
    luis = await token_of(world.luis, clock)
    client = await client_ops.create_client(
        world.luis, client_ops.ClientInput(name="Bodega"), clock=clock
    )
    status, body, headers = await api(
        http, url, "POST", "/deals", luis,
        json={"client_id": client.id, "title": "200 cajas", "amount": "1500.5"},
    )  # fmt: skip
    assert status == 201, body
    assert (body["amount"], body["currency"], body["status"]) == ("1500.50", "EUR", "new")
    assert headers["Location"] == f"/api/v1/deals/{body['id']}"
    deal_id = body["id"]

    status, body, _ = await api(
        http, url, "PATCH", f"/deals/{deal_id}", luis, json={"status": "won", "amount": 1600}
    )
    assert status == 200, body
    assert (body["status"], body["amount"]) == ("won", "1600.00") and body["closed_at"]
    history = await deal_ops.deal_history(world.luis, deal_id)  # the panel's history
    assert "won" in [h.to_status for h in history]

    status, body, _ = await api(
        http, url, "PATCH", f"/deals/{deal_id}", luis, json={"currency": "JPY"}
    )
    assert (status, body["field"]) == (422, "currency")
    status, body, _ = await api(http, url, "PATCH", f"/deals/{deal_id}", luis,
                                json={"status": "lost"})  # fmt: skip
    assert (status, body["field"]) == (422, "status")
    bad = {"client_id": client.id, "title": "X", "amount": -1}
    status, body, _ = await api(http, url, "POST", "/deals", luis, json=bad)
    assert (status, body["field"]) == (422, "amount")
    assert (await api(http, url, "DELETE", f"/deals/{deal_id}", luis))[0] == 204
    assert not await Deal.exists(id=deal_id)


async def test_the_list_pages_and_hides_other_agents_deals(world, world_server, http, clock):
    url = world_server.url
    mine = await client_ops.create_client(world.luis, client_ops.ClientInput(name="A"), clock=clock)
    hers = await client_ops.create_client(
        world.marta, client_ops.ClientInput(name="B"), clock=clock
    )
    for n in range(5):
        await deal_ops.create_deal(world.luis, mine.id, f"Trato {n}", n, clock=clock)
    martas = await deal_ops.create_deal(world.marta, hers.id, "De Marta", 9, clock=clock)
    luis = await token_of(world.luis, clock)
    titles: list[str] = []
    cursor = None
    pages = 0
    while True:
        path = "/deals?limit=2&sort=title" + (f"&cursor={cursor}" if cursor else "")
        status, body, _ = await api(http, url, "GET", path, luis)
        assert status == 200, body
        titles += [d["title"] for d in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert (titles, pages) == ([f"Trato {n}" for n in range(5)], 3)
    status, body, _ = await api(http, url, "GET", "/deals?sort=-amount&limit=1", luis)
    assert body["items"][0]["title"] == "Trato 4"
    for method, payload in (("GET", None), ("PATCH", {"title": "Mío"}), ("DELETE", None)):
        assert (await api(http, url, method, f"/deals/{martas.id}", luis, json=payload))[0] == 404
    # A deal for her client is refused as if the client did not exist.
    status, body, _ = await api(http, url, "POST", "/deals", luis,
                                json={"client_id": hers.id, "title": "Robado"})  # fmt: skip
    assert status == 404 and "B" not in body["detail"].split()
    assert await Deal.filter(client_id=hers.id).count() == 1
    status, body, _ = await api(http, url, "GET", "/deals?cursor=eyJhdCI6IC0xfQ", luis)
    assert (status, body["field"]) == (422, "cursor")
