"""Web forms through the real app over HTTP (E3): Settings -> Web forms for admins only, the
snippet, and POST /api/v1/forms/{key} as a site's page sends it: CORS, JSON and form-encoded
bodies, a known contact becoming a note, the honeypot, the rate limit, errors naming the field,
huge bodies, a switched-off form."""

from __future__ import annotations

import re
from html import unescape

import aiohttp
import pytest
from limits import parse

from models.contacts.clients import ClientInput, create_client
from models.core.events import LeadCreated
from models.schema.activity import Note
from models.schema.integrations import FormSource
from models.schema.leads import Lead
from models.schema.users import User
from tests.web.conftest import (
    csrf_from,
    http_login,
    start_server,
    web_settings,
)
from web.views.form_endpoint import FORM_LIMITER

SITE = "https://www.acme.es"
PROBLEM = "application/problem+json"


@pytest.fixture
async def events(hub):
    seen: list[object] = []

    async def keep(event: object) -> None:
        seen.append(event)

    hub.subscribe("test-web-forms", keep, LeadCreated)
    return seen


@pytest.fixture
async def srv(world, hub, clock, tmp_path):
    await User.all().update(language="en")
    runner, server = await start_server(web_settings(tmp_path), hub, clock)
    yield server
    await runner.cleanup()


async def create_form(http, url, **fields) -> tuple[int, str]:
    """Settings -> Web forms -> New web form (logged in as an admin); the page it lands on."""
    async with http.get(f"{url}/settings/forms") as resp:
        token = csrf_from(await resp.text())
    async with http.post(
        f"{url}/settings/forms", data={**fields, "csrf_token": token}, allow_redirects=True
    ) as resp:
        return resp.status, await resp.text()


@pytest.fixture
async def form(world, srv, http) -> FormSource:
    await http_login(http, srv.url, "ana", world.password)
    status, html = await create_form(
        http,
        srv.url,
        name="Contacto web",
        origins=f"{SITE}\nhttp://localhost:8080",
        source_tag_id=str(world.did_tag.id),
        responsible_id=str(world.luis.id),
    )
    assert status == 200, html
    return await FormSource.get(name="Contacto web")


@pytest.fixture
async def site():
    """A browser-less stand-in for a visitor's browser on another site: no cookies."""
    async with aiohttp.ClientSession() as session:
        yield session


async def test_an_admin_creates_and_edits_a_form_and_gets_the_snippet(world, srv, http, form):
    assert len(form.key) >= 32 and form.allowed_origins == [SITE, "http://localhost:8080"]
    async with http.get(f"{srv.url}/settings/forms") as resp:
        html = await resp.text()
    endpoint = f"{srv.url}/api/v1/forms/{form.key}"
    assert 'href="/settings/forms"' in html  # the settings menu
    assert endpoint in html
    found = re.search(r'<textarea class="snippet"[^>]*>(.*?)</textarea>', html, re.S)
    assert found
    snippet = unescape(found.group(1))  # as the admin copies it
    assert f'<form id="centralita-form" method="post" action="{endpoint}">' in snippet
    for name in ("name", "phone", "email", "message", "utm_source", "utm_campaign", "website"):
        assert f'name="{name}"' in snippet
    assert 'type="hidden" name="utm_medium"' in snippet and "location.search" in snippet
    assert 'name="website" tabindex="-1"' in snippet  # the honeypot, out of sight
    assert "Google Ads" in html

    async with http.post(
        f"{srv.url}/settings/forms/{form.id}",
        data={
            "name": "Contacto tienda",
            "origins": "https://tienda.acme.es:8443",
            "source_tag_id": "",
            "responsible_id": "",
            "csrf_token": csrf_from(html),
        },
    ) as resp:
        assert resp.status == 200
        assert "Contacto tienda" in await resp.text()
    saved = await FormSource.get(id=form.id)
    assert (saved.name, saved.allowed_origins, saved.enabled) == (
        "Contacto tienda",
        ["https://tienda.acme.es:8443"],
        False,  # the "accepting submissions" box left unticked switches it off
    )
    assert saved.key == form.key


async def test_a_wrong_origin_is_refused_naming_the_field(world, srv, http, form):
    status, html = await create_form(http, srv.url, name="Mala", origins="www.acme.es/contacto")
    assert status == 422
    assert "www.acme.es/contacto is not a site address" in html
    assert await FormSource.filter(name="Mala").count() == 0


async def test_an_agent_is_refused_the_page_and_the_changes(world, srv, http, form):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent:
        await http_login(agent, srv.url, "luis", world.password)
        async with agent.get(f"{srv.url}/settings/forms") as resp:
            assert resp.status == 403
            assert form.key not in await resp.text()
        async with agent.get(f"{srv.url}/settings/profile") as resp:
            token = csrf_from(await resp.text())
        async with agent.post(
            f"{srv.url}/settings/forms/{form.id}/delete", data={"csrf_token": token}
        ) as resp:
            assert resp.status == 403
    assert await FormSource.filter(id=form.id).exists()


async def test_cors_preflight_only_for_the_allowed_sites(srv, site, form):
    url = f"{srv.url}/api/v1/forms/{form.key}"
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with site.options(url, headers={"Origin": SITE, **ask}) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] == SITE
        assert "POST" in resp.headers["Access-Control-Allow-Methods"]
        assert "content-type" in resp.headers["Access-Control-Allow-Headers"].lower()
    async with site.options(url, headers={"Origin": "https://evil.example", **ask}) as resp:
        assert resp.status == 403
        assert "Access-Control-Allow-Origin" not in resp.headers
    async with site.post(
        url, json={"email": "a@b.es"}, headers={"Origin": "https://evil.example"}
    ) as resp:
        assert resp.status == 403 and resp.content_type == PROBLEM
        assert "Access-Control-Allow-Origin" not in resp.headers
    assert await Lead.all().count() == 0


async def test_a_json_submission_makes_a_lead_and_announces_it(
    world, srv, http, site, form, hub, events
):
    async with site.post(
        f"{srv.url}/api/v1/forms/{form.key}",
        json={
            "name": "Rosa Díaz",
            "phone": "612345678",
            "email": "rosa@example.com",
            "message": "Quiero un presupuesto",
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "invierno",
            "utm_term": "centralita",
            "utm_content": "banner",
        },
        headers={"Origin": SITE},
    ) as resp:
        assert resp.status == 201, await resp.text()
        assert resp.headers["Access-Control-Allow-Origin"] == SITE
    lead = await Lead.get(name="Rosa Díaz")
    assert (lead.source, lead.source_tag_id, lead.responsible_id) == (
        "web form",
        world.did_tag.id,
        world.luis.id,
    )
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("google", "cpc", "invierno")
    assert (lead.utm_term, lead.utm_content) == ("centralita", "banner")
    await hub.drain()
    assert [e.lead_id for e in events] == [lead.id]
    async with http.get(f"{srv.url}/settings/forms") as resp:
        page = await resp.text()
    assert '<strong class="form-submissions">1</strong>' in page
    assert "last: " in page  # the last submission's date and time


async def test_a_plain_html_form_lands_on_a_thank_you_page(srv, site, form):
    async with site.post(
        f"{srv.url}/api/v1/forms/{form.key}",
        data={"name": "Pablo", "email": "pablo@example.com", "utm_source": "", "website": ""},
        headers={
            "Origin": SITE,
            "Referer": f"{SITE}/contacto?utm_source=x",
            "Accept": "text/html,application/xhtml+xml",
            "Accept-Language": "es-ES,es;q=0.9",
        },
    ) as resp:
        assert resp.status == 201
        page = await resp.text()
    assert "Gracias" in page and f'href="{SITE}/contacto?utm_source=x"' in page
    assert await Lead.filter(name="Pablo", source="web form").exists()

    # A site with its own thank-you page names it; another site's page is refused.
    url = f"{srv.url}/api/v1/forms/{form.key}"
    async with site.post(
        url,
        data={"email": "marga@example.com", "_redirect": f"{SITE}/gracias"},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 303 and resp.headers["Location"] == f"{SITE}/gracias"
    async with site.post(
        url, data={"email": "x@example.com", "_redirect": "https://evil.example/"}
    ) as resp:
        assert resp.status == 422 and (await resp.json())["field"] == "_redirect"
    assert await Lead.all().count() == 2


async def test_a_form_encoded_submission_from_a_known_phone_is_a_note(world, srv, site, form):
    client = await create_client(
        world.marta, ClientInput(name="Talleres Peña", phones=["612345678"])
    )
    async with site.post(
        f"{srv.url}/api/v1/forms/{form.key}",
        data={"name": "José", "phone": "+34 612 34 56 78", "message": "Llamadme mañana"},
    ) as resp:
        assert resp.status == 201
        assert await resp.json() == {"status": "received"}
    assert await Lead.all().count() == 0
    assert "Llamadme mañana" in (await Note.get(client_id=client.id)).text


async def test_the_honeypot_is_answered_like_a_person_and_stores_nothing(srv, site, form):
    async with site.post(
        f"{srv.url}/api/v1/forms/{form.key}",
        json={"name": "Bot", "email": "bot@spam.example", "website": "http://spam.example"},
        headers={"Origin": SITE},
    ) as resp:
        assert resp.status == 201
        assert await resp.json() == {"status": "received"}
    assert await Lead.all().count() == 0 and await Note.all().count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Sin contacto"}, "phone"),
        ({"email": "no-es-un-correo"}, "email"),
        ({"email": "a@b.es", "utm_campaign": ["a", "b"]}, "utm_campaign"),
        ([1, 2], "body"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(srv, site, form, body, field):
    async with site.post(
        f"{srv.url}/api/v1/forms/{form.key}",
        json=body,
        headers={"Origin": SITE, "Accept-Language": "es"},
    ) as resp:
        assert resp.status == 422
        assert resp.content_type == PROBLEM
        assert resp.headers["Access-Control-Allow-Origin"] == SITE  # the page may read it
        problem = await resp.json()
    assert problem["status"] == 422 and problem["field"] == field
    assert problem["detail"]
    assert await Lead.all().count() == 0


async def test_odd_bodies_never_break_the_endpoint(srv, site, form):
    url = f"{srv.url}/api/v1/forms/{form.key}"
    cases = [
        (b"{not json", "application/json"),
        (b"\xff\xfe", "application/x-www-form-urlencoded"),
        (b"<xml/>", "text/xml"),
        (b"name=" + b"x" * 200_000, "application/x-www-form-urlencoded"),
    ]
    for raw, kind in cases:
        async with site.post(url, data=raw, headers={"Content-Type": kind}) as resp:
            assert resp.status == 422, (kind, resp.status)
            assert (await resp.json())["field"] == "body"

    async def chunks():  # no Content-Length: the cap counts what arrives
        for _ in range(100):
            yield b"x" * 10_000

    async with site.post(
        url, data=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    ) as resp:
        assert resp.status == 422
    assert await Lead.all().count() == 0

    async with site.post(url, json={"name": "Ana\x00 Mar", "email": "ana@example.com"}) as resp:
        assert resp.status == 201  # PostgreSQL refuses NUL: it is dropped, not a 500
    assert await Lead.filter(name="Ana Mar").exists()
    async with site.post(
        url,
        data={"email": "rafa@example.com"},
        headers={"Accept": "text/html", "Referer": "http://[broken"},
    ) as resp:
        page = await resp.text()
        assert resp.status == 201 and "Gracias" in page and "<a " not in page  # no way back
    async with site.post(f"{srv.url}/api/v1/forms/%00{'k' * 300}", json={}) as resp:
        assert resp.status == 404 and resp.content_type == PROBLEM


async def test_too_many_submissions_wait_their_turn(srv, site, form):
    srv.app[FORM_LIMITER].per_address = parse("3/minute")
    url = f"{srv.url}/api/v1/forms/{form.key}"
    answers = []
    for n in range(4):
        async with site.post(url, json={"email": f"p{n}@example.com"}) as resp:
            answers.append(resp.status)
            if resp.status == 429:
                retry = int(resp.headers["Retry-After"])
                assert resp.content_type == PROBLEM
    assert answers == [201, 201, 201, 429]
    assert 1 <= retry <= 60
    assert await Lead.all().count() == 3


async def test_a_switched_off_or_unknown_form_is_not_found(world, srv, http, site, form):
    url = f"{srv.url}/api/v1/forms/{form.key}"
    async with http.get(f"{srv.url}/settings/forms") as resp:
        token = csrf_from(await resp.text())
    async with http.post(
        f"{srv.url}/settings/forms/{form.id}",
        data={"name": form.name, "origins": SITE, "csrf_token": token},  # "enabled" unticked
    ) as resp:
        assert resp.status == 200
    async with site.post(url, json={"email": "a@b.es"}, headers={"Origin": SITE}) as resp:
        assert resp.status == 404 and resp.content_type == PROBLEM
    async with site.post(f"{srv.url}/api/v1/forms/nope", json={"email": "a@b.es"}) as resp:
        assert resp.status == 404
    async with http.post(
        f"{srv.url}/settings/forms/{form.id}/delete", data={"csrf_token": token}
    ) as resp:
        assert resp.status == 200
    assert not await FormSource.filter(id=form.id).exists()
    assert await Lead.all().count() == 0
