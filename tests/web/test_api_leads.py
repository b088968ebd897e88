"""/api/v1/leads: a program creates leads (source "api", with UTM values) and reads them back
as its user may; Luis (an agent) sees his own and the unhandled ones, Marta's lead answers him
exactly like a missing one. The panel does not delete leads, and neither does the API."""

from __future__ import annotations

from models.sales import leads as lead_ops
from models.schema.leads import Lead
from tests.web.api_support import api, token_of

MISSING = 999_999


async def _leads(world, clock) -> dict[str, int]:
    made = {}
    for owner, name, unhandled in (
        (world.luis, "Lead Luis", False),
        (world.marta, "Lead Marta", False),
        (world.ana, "Lead Sin Dueño", True),
    ):
        lead = await lead_ops.create_lead(
            owner, lead_ops.LeadInput(name=name), unhandled=unhandled, clock=clock
        )
        made[name] = lead.id
    return made


async def _names(http, url, token, query: str = "") -> list[str]:
    status, body, _ = await api(http, url, "GET", f"/leads?sort=name&{query}", token)
    assert status == 200, body
    return [lead["name"] for lead in body["items"]]


async def test_a_program_creates_a_lead_with_its_utm_values(world, world_server, http, clock):
    url = world_server.url
    token = await token_of(world.luis, clock)
    status, body, headers = await api(
        http, url, "POST", "/leads", token,
        json={"name": "Eva Soto", "phones": ["+34 622 111 000"], "emails": ["eva@soto.es"],
              "source_tag_id": world.did_tag.id, "utm_source": "google",
              "utm_campaign": "invierno"},
    )  # fmt: skip
    assert status == 201, body
    assert headers["Location"] == f"/api/v1/leads/{body['id']}"
    assert body["source"] == "api" and body["status"] == "open"
    assert body["responsible_id"] == world.luis.id
    assert (body["utm_source"], body["utm_campaign"], body["utm_medium"]) == (
        "google", "invierno", "",
    )  # fmt: skip
    lead = await lead_ops.get_lead(world.luis, body["id"])  # the panel's card reads the same
    assert lead.source_tag_id == world.did_tag.id and lead.emails[0].address == "eva@soto.es"

    # Only a phone: the phone stands for the name, and nobody's when asked so.
    status, body, _ = await api(
        http, url, "POST", "/leads", token, json={"phones": ["622 111 001"], "unhandled": True}
    )
    assert status == 201, body
    assert body["name"] == body["phones"][0] and "622" in body["name"]
    assert body["responsible_id"] is None


async def test_an_agent_sees_his_leads_and_the_unhandled_ones(world, world_server, http, clock):
    made = await _leads(world, clock)
    url = world_server.url
    luis = await token_of(world.luis, clock, scope="read")
    assert await _names(http, url, luis) == ["Lead Luis", "Lead Sin Dueño"]
    assert await _names(http, url, luis, "view=mine") == ["Lead Luis"]
    assert await _names(http, url, luis, "view=unhandled") == ["Lead Sin Dueño"]
    assert await _names(http, url, luis, "q=Marta") == []
    ana = await token_of(world.ana, clock, scope="read")
    assert await _names(http, url, ana) == ["Lead Luis", "Lead Marta", "Lead Sin Dueño"]
    assert await _names(http, url, ana, "status=closed") == []

    hidden, missing = [
        await api(http, url, "GET", f"/leads/{record}", luis)
        for record in (made["Lead Marta"], MISSING)
    ]
    assert hidden[0] == missing[0] == 404
    assert hidden[1]["detail"].replace(str(made["Lead Marta"]), "N") == missing[1][
        "detail"
    ].replace(str(MISSING), "N")
    status, body, _ = await api(http, url, "GET", f"/leads/{made['Lead Sin Dueño']}", luis)
    assert status == 200 and body["custom"] == {}


async def test_change_a_lead_and_what_may_not_be_done(world, world_server, http, clock):
    made = await _leads(world, clock)
    url = world_server.url
    token = await token_of(world.luis, clock)
    lead_id = made["Lead Luis"]
    status, body, _ = await api(
        http, url, "PATCH", f"/leads/{lead_id}", token, json={"company_name": "Soto SA"}
    )
    assert status == 200, body
    assert (body["name"], body["company_name"]) == ("Lead Luis", "Soto SA")
    assert (await Lead.get(id=lead_id)).company_name == "Soto SA"

    status, body, _ = await api(http, url, "PATCH", f"/leads/{made['Lead Marta']}", token,
                                json={"name": "Mío"})  # fmt: skip
    assert status == 404
    assert (await Lead.get(id=made["Lead Marta"])).name == "Lead Marta"
    status, body, _ = await api(http, url, "PATCH", f"/leads/{lead_id}", token, json={"name": ""})
    assert (status, body["field"]) == (422, "name")
    status, body, _ = await api(
        http, url, "POST", "/leads", token, json={"name": "X", "utm_source": "u" * 101}
    )
    assert (status, body["field"]) == (422, "utm_source")
    status, body, _ = await api(http, url, "POST", "/leads", token, json={})
    assert (status, body["field"]) == (422, "name")
    status, body, _ = await api(
        http, url, "POST", "/leads", token, json={"name": "X", "source_tag_id": MISSING}
    )
    assert (status, body["field"]) == (422, "source_tag_id")
    status, body, _ = await api(http, url, "DELETE", f"/leads/{lead_id}", token)
    assert status == 405
    assert await Lead.exists(id=lead_id)


async def test_take_an_unhandled_lead_and_close_it(world, world_server, http, clock):
    made = await _leads(world, clock)
    url = world_server.url
    luis = await token_of(world.luis, clock)
    marta = await token_of(world.marta, clock)
    free = made["Lead Sin Dueño"]
    status, body, _ = await api(http, url, "POST", f"/leads/{free}/claim", luis)
    assert (status, body["responsible_id"]) == (200, world.luis.id)
    # Now Luis's: Marta no longer sees it, so she is told it does not exist (not who has it).
    status, body, _ = await api(http, url, "POST", f"/leads/{free}/claim", marta)
    assert status == 404 and "Luis" not in body["detail"]
    status, body, _ = await api(http, url, "POST", f"/leads/{free}/close", luis)
    assert (status, body["status"]) == (200, "closed")
    assert (await api(http, url, "POST", f"/leads/{made['Lead Marta']}/close", luis))[0] == 404
    assert (await Lead.get(id=made["Lead Marta"])).status == "open"
