"""The search box at the top of every page finds clients and leads, grouped (issue 14, item 13);
/clients?q= and /leads?q= find the same by parts of names, companies and emails."""

from __future__ import annotations

import re

from models.contacts.clients import ClientInput, create_client
from models.sales.leads import LeadInput, create_lead
from tests.web.conftest import http_login


def _group(page: str, name: str) -> str:
    start = page.index(f'data-group="{name}"')
    return page[start : page.index("</section>", start)]


async def test_the_top_search_lists_clients_and_leads_found_by_parts(
    world, world_server, http, clock
):
    await create_client(
        world.luis,
        ClientInput(name="José Núñez", company_name="Óptica Núñez", emails=["jose@optica.es"]),
        clock=clock,
    )
    await create_client(world.luis, ClientInput(name="Pedro Gil"), clock=clock)
    await create_lead(
        world.luis,
        LeadInput(name="Ana Pérez", emails=["ana.perez@opticas-del-sur.es"]),
        clock=clock,
    )
    await create_lead(world.marta, LeadInput(name="Luz Óptima"), unhandled=True, clock=clock)
    await http_login(http, world_server.url, "luis", world.password)

    async with http.get(f"{world_server.url}/") as resp:
        home = await resp.text()
    assert re.search(r'<form class="search" action="/search"', home)

    async with http.get(f"{world_server.url}/search", params={"q": "opti"}) as resp:
        assert resp.status == 200
        page = await resp.text()
    clients, leads = _group(page, "clients"), _group(page, "leads")
    assert "José Núñez" in clients and "Pedro Gil" not in clients
    assert "1 cliente" in clients
    # By a part of an email, and by a part of a name (accents aside), whoever handles it.
    assert "Ana Pérez" in leads and "Luz Óptima" in leads
    assert "2 leads" in leads

    async with http.get(
        f"{world_server.url}/leads", params={"view": "all", "q": "del-sur"}
    ) as resp:
        listed = await resp.text()
    assert "Ana Pérez" in listed and "Luz Óptima" not in listed
    async with http.get(f"{world_server.url}/clients", params={"q": "optica.e"}) as resp:
        assert "José Núñez" in await resp.text()

    async with http.get(
        f"{world_server.url}/search", params={"q": "zzz"}, allow_redirects=False
    ) as resp:
        page = await resp.text()
    assert "Ningún cliente coincide." in page and "Ningún lead coincide." in page
    async with http.get(f"{world_server.url}/search?q=", allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/clients"
