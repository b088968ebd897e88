"""SMS switched off (`[sms] driver = "none"`, issue 14 item 4): every SMS entry point of the
panel says why, and refuses with that reason instead of a generic form error; switched on,
the same entry points send as before."""

from __future__ import annotations

import re

from models.contacts.clients import ClientInput, create_client
from models.core.settings import SmsSettings
from models.schema.activity import Sms
from models.schema.outbox import OutboxMessage
from models.schema.tasks import Task
from tests.web.conftest import csrf_from, http_login, start_server, web_settings

REASON = "El envío de SMS no está configurado en este CRM"
GENERIC = "Corrige los campos marcados abajo"
AGENT_HINT = "Pide a un administrador que configure una pasarela de SMS."
ADMIN_HINT = "[sms] driver de config.toml"


async def _server(tmp_path, hub, clock, **sms):
    settings = web_settings(tmp_path).model_copy(update={"sms": SmsSettings(**sms)})
    return await start_server(settings, hub, clock)


async def _page(http, url: str) -> str:
    async with http.get(url) as resp:
        assert resp.status == 200, url
        return await resp.text()


def _task_form(token: str, client_id: int) -> dict[str, str]:
    return {
        "csrf_token": token,
        "title": "Recordatorio de cita",
        "kind": "sms",
        "due_at": "2026-11-26T10:00",
        "sms_text": "Le esperamos mañana",
        "client_id": str(client_id),
        "assignee_ids": "",
    }


async def test_with_sms_off_the_card_and_its_menu_say_why_and_where_to_turn_it_on(
    world, world_server, http
):
    client = await create_client(world.luis, ClientInput(name="Eva Soto", phones=["+34600000001"]))
    await http_login(http, world_server.url, "luis", world.password)
    card = await _page(http, f"{world_server.url}/clients/{client.id}")
    # The button and the ••• entry: both disabled, both with the same reason.
    button = re.search(r"<button[^>]*data-sms-button[^>]*>", card).group(0)
    assert "disabled" in button and f'title="{REASON}"' in button
    entry = re.search(r"<span[^>]*data-sms-entry[^>]*>", card).group(0)
    assert 'aria-disabled="true"' in entry and f'title="{REASON}"' in entry
    assert "/sms/new?" not in card
    assert "El envío de SMS aún no está disponible" not in card  # the old "not yet" wording
    assert AGENT_HINT in card and ADMIN_HINT not in card

    http.cookie_jar.clear()
    await http_login(http, world_server.url, "ana", world.password)
    card = await _page(http, f"{world_server.url}/clients/{client.id}")
    assert ADMIN_HINT in card and AGENT_HINT not in card


async def test_with_sms_off_sending_and_bulk_sms_refuse_with_the_reason(world, world_server, http):
    client = await create_client(world.ana, ClientInput(name="Eva Soto", phones=["+34600000001"]))
    await http_login(http, world_server.url, "ana", world.password)
    form = await _page(http, f"{world_server.url}/sms/new?client_id={client.id}")
    assert REASON in form and re.search(r'<button type="submit" class="primary" disabled', form)
    token = csrf_from(form)
    async with http.post(
        f"{world_server.url}/sms/new",
        data={"csrf_token": token, "to": "+34600000001", "text": "Hola"},
    ) as resp:
        assert resp.status == 409
        page = await resp.text()
    assert REASON in page and GENERIC not in page

    # The clients list's bulk button: first the page (with its banner), then the refusal.
    async with http.post(
        f"{world_server.url}/clients/bulk-sms",
        data={"csrf_token": token, "client_ids": [str(client.id)]},
    ) as resp:
        assert resp.status == 200
        page = await resp.text()
    assert REASON in page and "Desde esta página no se puede enviar nada." in page
    async with http.post(
        f"{world_server.url}/clients/bulk-sms",
        data={"csrf_token": token, "client_ids": [str(client.id)], "template": "Hola {name}"},
    ) as resp:
        assert resp.status == 409
        page = await resp.text()
    assert REASON in page and GENERIC not in page
    assert await Sms.all().count() == 0
    assert await OutboxMessage.filter(kind="sms").count() == 0


async def test_with_sms_off_an_sms_task_is_refused_on_its_type(world, world_server, http):
    client = await create_client(world.luis, ClientInput(name="Eva Soto", phones=["+34600000001"]))
    await http_login(http, world_server.url, "luis", world.password)
    form = await _page(http, f"{world_server.url}/tasks/new?client_id={client.id}")
    option = re.search(r'<option value="sms"[^>]*>[^<]*</option>', form).group(0)
    assert "disabled" in option and "no configurado" in option
    assert REASON in form
    token = csrf_from(form)
    async with http.post(f"{world_server.url}/tasks/new", data=_task_form(token, client.id)) as r:
        assert r.status == 422
        page = await r.text()
    kind_field = re.search(
        r'<label for="f-kind">.*?</select>\s*<p class="field-error"[^>]*>([^<]*)', page, re.S
    )
    assert kind_field and kind_field.group(1) == REASON
    assert await Task.filter(kind="sms").count() == 0

    # Changing an existing task into an SMS task is refused the same way.
    plain = {**_task_form(token, client.id), "kind": "call"}
    async with http.post(f"{world_server.url}/tasks/new", data=plain) as r:
        assert r.status == 200
    task = await Task.get(kind="call")
    async with http.post(
        f"{world_server.url}/tasks/{task.id}", data=_task_form(token, client.id)
    ) as r:
        assert r.status == 422
        assert REASON in await r.text()
    assert (await Task.get(id=task.id)).kind == "call"


async def test_with_sms_on_the_card_links_and_an_sms_task_is_planned(
    world, hub, clock, tmp_path, http
):
    runner, srv = await _server(
        tmp_path, hub, clock, driver="http", http_url="http://127.0.0.1:9/x"
    )
    try:
        client = await create_client(
            world.luis, ClientInput(name="Eva Soto", phones=["+34600000001"])
        )
        await http_login(http, srv.url, "luis", world.password)
        card = await _page(http, f"{srv.url}/clients/{client.id}")
        assert re.search(
            r'<a class="button" href="/sms/new\?client_id=\d+[^"]*" data-sms-button>', card
        )
        assert re.search(r'<a href="/sms/new\?client_id=\d+[^"]*" data-sms-entry>', card)
        assert REASON not in card
        form = await _page(http, f"{srv.url}/tasks/new?client_id={client.id}")
        assert not re.search(r'<option value="sms"[^>]*disabled', form)
        async with http.post(
            f"{srv.url}/tasks/new", data=_task_form(csrf_from(form), client.id)
        ) as resp:
            assert resp.status == 200
        task = await Task.get(kind="sms")
        assert (task.sms_text, task.client_id) == ("Le esperamos mañana", client.id)
    finally:
        await runner.cleanup()
