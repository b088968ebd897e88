"""The client and lead timelines read in the viewer's language (S4, C7)."""

from __future__ import annotations

from models.contacts import clients as client_ops
from models.contacts.clients import ClientInput
from models.sales.deals import create_deal, move_deal
from models.sales.leads import LeadInput, create_lead
from models.schema.activity import TimelineEntry
from models.telephony.caller_directory import CallerDirectory
from tests.call_records import T0, inbound
from tests.web.conftest import http_login


async def _client_with_history(world, clock):
    client = await client_ops.create_client(
        world.luis, ClientInput(name="<b>x</b>", phones=["911234567"]), clock=clock
    )
    deal = await create_deal(world.luis, client.id, "Centralita", "1500", "EUR", clock=clock)
    await move_deal(world.luis, deal.id, "won", clock=clock)
    directory = await CallerDirectory.load()
    await directory.record_call(inbound("1.1", "+34911234567"), clock=clock)
    # A row written before entries kept their data: only its English sentence.
    await TimelineEntry.create(
        kind="client", at=T0, client_id=client.id, summary="Client imported: old row"
    )
    return client


async def _card(http, world_server, world, user, path: str) -> str:
    await http_login(http, world_server.url, user.username, world.password)
    async with http.get(f"{world_server.url}{path}") as resp:
        assert resp.status == 200
        return await resp.text()


async def test_a_spanish_user_reads_the_client_timeline_in_spanish(
    world_server, world, clock, http
):
    client = await _client_with_history(world, clock)
    html = await _card(http, world_server, world, world.luis, f"/clients/{client.id}")
    assert "Cliente creado: &lt;b&gt;x&lt;/b&gt;" in html  # the name typed by a user, escaped
    assert "<b>x</b>" not in html
    assert "Acuerdo Centralita: Nuevo acuerdo → Acuerdo de éxito" in html
    assert "Acuerdo creado: Centralita (1.500,00\xa0€)" in html  # the amount the Spanish way
    assert "Llamada entrante atendida (Luis Pérez), 1:05" in html
    assert "Client imported: old row" in html  # an old row keeps its sentence
    assert "Client created" not in html and "New → Won" not in html


async def test_an_english_user_reads_it_in_english(world_server, world, clock, http):
    client = await _client_with_history(world, clock)
    world.luis.language = "en"
    await world.luis.save(update_fields=["language"])
    html = await _card(http, world_server, world, world.luis, f"/clients/{client.id}")
    assert "Client created: &lt;b&gt;x&lt;/b&gt;" in html
    assert "Deal Centralita: New → Won" in html
    assert "Deal created: Centralita (€1,500.00)" in html
    assert "Inbound call answered (Luis Pérez), 1:05" in html
    assert "Client imported: old row" in html
    assert "Cliente creado" not in html


async def test_the_lead_card_speaks_the_viewers_language(world_server, world, clock, http):
    lead = await create_lead(
        world.luis, LeadInput(name="Eva & Co", phones=["600111222"]), clock=clock
    )
    html = await _card(http, world_server, world, world.luis, f"/leads/{lead.id}")
    assert "Lead creado (manual): Eva &amp; Co" in html
