"""The calls list (and the widget's history) name an unknown caller with the name the PBX gave
(issue 14, item 2)."""

from __future__ import annotations

from datetime import timedelta

from models.schema.calls import Call
from tests.web.conftest import http_login


async def test_an_unknown_caller_shows_the_pbx_name_on_the_calls_list(
    world_server, http, world, clock
):
    await Call.create(
        linkedid="pbx-name-1",
        direction="in",
        from_number="+34600333444",
        to_number="900100200",
        peer_e164="+34600333444",
        caller_name="Pilar Gómez",
        result="missed",
        started_at=clock.now() - timedelta(minutes=5),
        agent_id=world.luis.id,
    )
    await Call.create(
        linkedid="pbx-name-2",
        direction="in",
        from_number="+34600555666",
        to_number="900100200",
        result="missed",
        started_at=clock.now() - timedelta(minutes=4),
        agent_id=world.luis.id,
    )
    await http_login(http, world_server.url, "luis", world.password)
    async with http.get(f"{world_server.url}/calls") as resp:
        assert resp.status == 200
        page = await resp.text()
    assert '<span class="caller-name">Pilar Gómez</span>' in page
    assert "no está en el CRM" in page  # Luis reads Spanish
    assert "número desconocido" in page  # the caller without a name
    async with http.get(
        f"{world_server.url}/api/widget/history", headers={"Accept": "application/json"}
    ) as resp:
        body = await resp.json()
    names = {c["number"]: c["name"] for c in body["calls"]}
    assert names == {"+34600333444": "Pilar Gómez", "+34600555666": ""}
