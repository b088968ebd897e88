"""Pages over real HTTP: rights, bad input kept in forms, uploads, leads, settings, health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg

from models.contacts import clients as client_ops
from models.core.events import ClickToCall
from models.sales import leads as lead_ops
from models.schema.clients import Client
from models.schema.company import Company
from models.schema.deals import Deal
from models.schema.leads import Lead
from models.schema.users import Group, User
from models.work import tasks as task_ops
from models.work.tasks import TaskInput
from tests.web.conftest import csrf_from, http_login, start_server, web_settings
from web.keys import HUB, SERVICES
from web.services import WebServices

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _error_section(html: str) -> str:
    """What an error page says (the rest of the page carries per-request tokens)."""
    return html[html.index('<section class="error-page">') : html.index("</section>")]


async def _token(http, url: str) -> str:
    async with http.get(url) as resp:
        return csrf_from(await resp.text())


async def test_healthz_is_503_when_the_database_is_unreachable(db, hub, clock, tmp_path, http):
    async def unreachable() -> bool:
        await asyncpg.connect("postgresql://postgres@127.0.0.1:1/none", timeout=2)
        return True

    services = WebServices(db_ping=unreachable)
    runner, srv = await start_server(web_settings(tmp_path), hub, clock, services)
    try:
        async with http.get(f"{srv.url}/healthz") as resp:
            assert resp.status == 503
            assert (await resp.json())["database"] == "unreachable"
    finally:
        await runner.cleanup()


async def test_client_form_keeps_what_was_typed_and_names_the_owner_of_a_phone(
    world_server, world, clock, http
):
    await client_ops.create_client(
        world.luis, client_ops.ClientInput(name="Primero", phones=["+34 600 111 222"]), clock=clock
    )
    await http_login(http, world_server.url, "luis", world.password)
    token = await _token(http, f"{world_server.url}/clients/new")
    form = [
        ("csrf_token", token),
        ("name", "Segundo"),
        ("phones", "600 111 222"),
        ("phones", "+1 415 555 0100"),
        ("emails", "no-es-un-email"),
        ("tags", "a, b"),
    ]
    async with http.post(f"{world_server.url}/clients/new", data=form) as resp:
        assert resp.status == 422
        html = await resp.text()
    assert 'value="Segundo"' in html and 'value="+1 415 555 0100"' in html
    assert 'value="a, b"' in html
    assert "field-error" in html
    form[4] = ("emails", "ok@example.com")
    async with http.post(f"{world_server.url}/clients/new", data=form) as resp:
        assert resp.status == 422
        assert "Primero" in await resp.text()  # the client the number belongs to is named
    assert await Client.filter(name="Segundo").count() == 0


async def test_call_button_says_when_the_pbx_link_is_down_and_sends_the_command_when_up(
    world_server, world, clock, hub, http
):
    client = await client_ops.create_client(
        world.luis, client_ops.ClientInput(name="Hotel", phones=["+34 911 222 333"]), clock=clock
    )
    await http_login(http, world_server.url, "luis", world.password)
    url = f"{world_server.url}/clients/{client.id}"
    token = await _token(http, url)
    headers = {"Accept": "application/json"}
    async with http.post(f"{url}/call", data={"csrf_token": token}, headers=headers) as resp:
        assert resp.status == 503
        assert "centralita no está activa" in (await resp.json())["message"]  # Luis reads Spanish
    sent: list[ClickToCall] = []

    async def handler(command: ClickToCall) -> None:
        sent.append(command)

    hub.handle(ClickToCall, handler)
    async with http.post(f"{url}/call", data={"csrf_token": token}, headers=headers) as resp:
        assert resp.status == 200
    assert sent[0].number == "+34911222333"
    assert sent[0].extension == "101"
    assert sent[0].user_id == world.luis.id


async def test_other_agents_records_are_refused_everywhere(world_server, world, clock, http):
    client = await client_ops.create_client(
        world.marta, client_ops.ClientInput(name="De Marta"), clock=clock
    )
    await http_login(http, world_server.url, "luis", world.password)
    # Marta's client is answered exactly like one that does not exist (ids cannot be probed).
    async with http.get(f"{world_server.url}/clients/999999") as resp:
        assert resp.status == 404
        missing = _error_section(await resp.text())
    for path in (
        f"/clients/{client.id}",
        f"/clients/{client.id}/edit",
        f"/deals/new?client_id={client.id}",
    ):
        async with http.get(f"{world_server.url}{path}") as resp:
            assert resp.status == 404, path
            assert _error_section(await resp.text()) == missing
    for path in ("/settings/company", "/settings/groups"):
        async with http.get(f"{world_server.url}{path}") as resp:
            assert resp.status == 403, path
    token = await _token(http, f"{world_server.url}/clients")
    async with http.post(
        f"{world_server.url}/clients/{client.id}/delete", data={"csrf_token": token}
    ) as resp:
        assert resp.status == 404
    assert await Client.exists(id=client.id)
    async with http.get(f"{world_server.url}/no/such/page") as resp:
        assert resp.status == 404
        assert "404" in await resp.text()


async def test_take_an_unhandled_lead_and_convert_it_with_a_deal(world_server, world, clock, http):
    lead = await lead_ops.create_lead(
        world.ana,
        lead_ops.LeadInput(name="Interesado", phones=["+34 622 000 111"]),
        unhandled=True,
        clock=clock,
    )
    await http_login(http, world_server.url, "luis", world.password)
    async with http.get(f"{world_server.url}/leads?view=unhandled") as resp:
        html = await resp.text()
        assert "Interesado" in html
    token = csrf_from(html)
    async with http.post(
        f"{world_server.url}/leads/{lead.id}/take", data={"csrf_token": token}
    ) as resp:
        assert resp.status == 200
    assert (await Lead.get(id=lead.id)).responsible_id == world.luis.id
    bad = {"csrf_token": token, "with_deal": "1", "deal_title": "", "deal_amount": "10"}
    async with http.post(f"{world_server.url}/leads/{lead.id}/convert", data=bad) as resp:
        assert resp.status == 422
    good = {
        "csrf_token": token,
        "with_deal": "1",
        "deal_title": "Alta",
        "deal_amount": "99.50",
        "deal_currency": "USD",
    }
    async with http.post(
        f"{world_server.url}/leads/{lead.id}/convert", data=good, allow_redirects=False
    ) as resp:
        assert resp.status == 303
        assert resp.headers["Location"].startswith("/clients/")
    client = await Client.get(name="Interesado")
    deal = await Deal.get(client_id=client.id)
    assert (deal.title, str(deal.amount), deal.currency) == ("Alta", "99.50", "USD")
    # "+" inside Unhandled makes an unhandled lead
    async with http.post(
        f"{world_server.url}/leads/new",
        data={"csrf_token": token, "name": "Nadie", "unhandled": "1"},
    ) as resp:
        assert resp.status == 200
    assert (await Lead.get(name="Nadie")).responsible_id is None


async def test_photo_upload_is_limited_in_size_and_type(world, hub, clock, tmp_path, http):
    runner, srv = await start_server(web_settings(tmp_path, max_upload_mb=1), hub, clock)
    try:
        await http_login(http, srv.url, "luis", world.password)
        token = await _token(http, f"{srv.url}/settings/profile")

        async def upload(data: bytes, content_type: str, name: str):
            form = {"csrf_token": token}
            body = aiohttp.FormData(form)
            body.add_field("photo", data, filename=name, content_type=content_type)
            async with http.post(f"{srv.url}/settings/photo", data=body) as resp:
                return resp.status, await resp.text()

        status, html = await upload(b"GIF89a" + b"\x00" * 10, "image/gif", "a.gif")
        assert status == 422 and "field-error" in html
        status, html = await upload(b"not really a png", "image/png", "b.png")
        assert status == 422  # the bytes must match the type
        status, _ = await upload(PNG + b"\x00" * (1024 * 1024), "image/png", "big.png")
        assert status == 413
        status, _ = await upload(PNG, "image/png", "me.png")
        assert status == 200
        luis = await User.get(id=world.luis.id)
        assert luis.photo_path.endswith(".png")
        async with http.get(f"{srv.url}/uploads/photos/{luis.photo_path}") as resp:
            assert resp.status == 200
            assert await resp.read() == PNG
    finally:
        await runner.cleanup()


async def test_settings_pages_save_and_refuse_bad_values(world_server, world, http):
    await http_login(http, world_server.url, "ana", world.password)
    token = await _token(http, f"{world_server.url}/settings/company")
    bad = {
        "csrf_token": token,
        "name": "Acme Telecom",
        "default_currency": "EUR",
        "extra_currencies": "USD, XXY",
        "default_region": "ES",
    }
    async with http.post(f"{world_server.url}/settings/company", data=bad) as resp:
        assert resp.status == 422
        assert 'value="USD, XXY"' in await resp.text()
    bad["extra_currencies"] = "USD, GBP"
    async with http.post(f"{world_server.url}/settings/company", data=bad) as resp:
        assert resp.status == 200
    assert (await Company.first()).extra_currencies == ["USD", "GBP"]
    hours = {
        "csrf_token": token,
        "time_zone": "Europe/Madrid",
        "first_weekday": "0",
        "kind": "rotation",
        "rotation_start": "2026-11-23",
        "pattern": "08:00-20:00\n20:00-08:00\noff\noff",
    }
    async with http.post(f"{world_server.url}/settings/hours", data=hours) as resp:
        assert resp.status == 200
    ana = await User.get(id=world.ana.id)
    assert ana.work_schedule["pattern"][1] == [["20:00", "08:00"]]
    hours["pattern"] = "8am-8pm"
    async with http.post(f"{world_server.url}/settings/hours", data=hours) as resp:
        assert resp.status == 422
        assert "8am-8pm" in await resp.text()
    group = {"csrf_token": token, "name": "Supervisores", "rights": ["clients.view_all"]}
    async with http.post(f"{world_server.url}/settings/groups", data=group) as resp:
        assert resp.status == 200
    assert (await Group.get(name="Supervisores")).rights == ["clients.view_all"]


async def test_admin_adds_a_user_and_agents_cannot(world_server, world, http):
    await http_login(http, world_server.url, "luis", world.password)
    token = await _token(http, f"{world_server.url}/team")
    data = {"csrf_token": token, "username": "pepe", "password": "pepe-pass-1", "group": "Agent"}
    async with http.post(f"{world_server.url}/team/users", data=data) as resp:
        assert resp.status == 403
    http.cookie_jar.clear()
    await http_login(http, world_server.url, "ana", world.password)
    token = await _token(http, f"{world_server.url}/team")
    data.update(csrf_token=token, extension="101")  # Luis's extension
    async with http.post(f"{world_server.url}/team/users", data=data) as resp:
        assert resp.status == 409
        assert 'value="pepe"' in await resp.text()
    data["extension"] = "120"
    async with http.post(f"{world_server.url}/team/users", data=data) as resp:
        assert resp.status == 200
    assert (await User.get(username="pepe")).extension == "120"
    # The panel's pop-ups know the new extension at once, and forget a deactivated agent's.
    extensions = world_server.app[SERVICES].callers.extensions
    await world_server.app[HUB].drain()
    assert (await User.get(username="pepe")).id == extensions.cached("120").id
    url = f"{world_server.url}/team/{world.marta.id}/active"
    async with http.post(url, data={"csrf_token": token, "active": "0"}) as resp:
        assert resp.status == 200
    await world_server.app[HUB].drain()
    assert extensions.cached("102") is None
    async with http.post(
        f"{world_server.url}/team/invites", data={"csrf_token": token, "group": "Agent"}
    ) as resp:
        html = await resp.text()
    assert f"{world_server.url}/invite/" in html


async def test_change_password_needs_the_current_one(world_server, world, http):
    await http_login(http, world_server.url, "marta", world.password)
    token = await _token(http, f"{world_server.url}/settings/profile")
    url = f"{world_server.url}/settings/password"
    data = {
        "csrf_token": token,
        "current_password": "wrong-one-1",
        "new_password": "nueva-clave-1",
        "new_password_again": "nueva-clave-1",
    }
    async with http.post(url, data=data) as resp:
        assert resp.status == 422
    data.update(current_password=world.password, new_password_again="otra-clave-1")
    async with http.post(url, data=data) as resp:
        assert resp.status == 422
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        await http_login(other, world_server.url, "marta", world.password)
        data.update(new_password_again="nueva-clave-1")
        async with http.post(url, data=data) as resp:
            assert resp.status == 200
        async with http.get(f"{world_server.url}/clients") as resp:
            assert resp.url.path == "/clients"  # the session that changed it goes on
        async with other.get(f"{world_server.url}/clients", allow_redirects=False) as resp:
            assert resp.status == 303  # another session with the old password has ended
    http.cookie_jar.clear()
    await http_login(http, world_server.url, "marta", "nueva-clave-1")


async def test_a_busy_calendar_day_links_to_the_rest_of_its_tasks(world_server, world, clock, http):
    noon = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    for i in range(6):
        await task_ops.create_task(
            world.luis,
            TaskInput(title=f"Tarea {i}", due_at=noon + timedelta(minutes=i)),
            clock=clock,
        )
    await http_login(http, world_server.url, "ana", world.password)
    async with http.get(f"{world_server.url}/calendar") as resp:
        page = await resp.text()
    shown = [i for i in range(6) if f"Tarea {i}" in page]
    assert shown == [0, 1, 2, 3]  # the first four by due time
    link = "/tasks?scope=all&amp;status=any&amp;from=2026-11-25T00:00&amp;to=2026-11-25T00:00"
    assert f'href="{link}">+2 más</a>' in page
    async with http.get(world_server.url + link.replace("&amp;", "&")) as resp:
        listed = await resp.text()
    assert all(f"Tarea {i}" in listed for i in range(6))
