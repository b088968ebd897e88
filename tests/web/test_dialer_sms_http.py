"""The auto-dialer and SMS in the panel over HTTP: widget dialer API, clients-list bulk actions,
the SMS form, the delivery report page and the gateway's delivery-report webhook."""

from __future__ import annotations

from pydantic import SecretStr

from models.contacts.clients import ClientInput, create_client
from models.core.settings import SmsSettings
from models.schema.activity import Sms
from models.schema.dialer import DialerEntry, DialerList
from models.schema.outbox import OutboxMessage
from tests.web.conftest import csrf_from, http_login, start_server, web_settings


async def _server(tmp_path, hub, clock, **sms):
    settings = web_settings(tmp_path)
    settings = settings.model_copy(update={"sms": SmsSettings(**sms)})
    return await start_server(settings, hub, clock)


async def _token(http, url: str) -> str:
    async with http.get(f"{url}/sms/new") as resp:
        return csrf_from(await resp.text())


async def test_widget_dialer_api_builds_starts_pauses_and_refuses_an_empty_list(
    world, hub, clock, tmp_path, http
):
    runner, srv = await _server(tmp_path, hub, clock)
    try:
        await http_login(http, srv.url, "luis", world.password)
        headers = {"X-CSRF-Token": await _token(http, srv.url), "Accept": "application/json"}
        async with http.post(
            f"{srv.url}/api/dialer/lists",
            json={"name": "Keypad", "numbers": ["+34911000001", "12"]},
            headers=headers,
        ) as resp:
            assert resp.status == 201
            body = await resp.json()
        assert [(e["state"], e["result"]) for e in body["entries"]] == [
            ("pending", ""),
            ("skipped", "invalid"),
        ]
        list_id = body["id"]
        async with http.post(
            f"{srv.url}/api/dialer/lists/{list_id}/start", headers=headers
        ) as resp:
            assert (await resp.json())["status"] == "running"
        async with http.post(
            f"{srv.url}/api/dialer/lists/{list_id}/pause", headers=headers
        ) as resp:
            assert (await resp.json())["status"] == "paused"
        async with http.get(f"{srv.url}/api/dialer/lists", headers=headers) as resp:
            assert (await resp.json())["current"]["id"] == list_id
        async with http.post(
            f"{srv.url}/api/dialer/lists", json={"numbers": []}, headers=headers
        ) as resp:
            empty = (await resp.json())["id"]
        async with http.post(f"{srv.url}/api/dialer/lists/{empty}/start", headers=headers) as resp:
            assert resp.status in (400, 422)
            # the agent reads Spanish: the domain's refusal comes in Spanish
            assert "no quedan números" in (await resp.json())["fields"]["list"]
    finally:
        await runner.cleanup()


async def test_bulk_actions_on_clients_make_a_dialer_list_and_a_bulk_sms_report(
    world, hub, clock, tmp_path, http
):
    runner, srv = await _server(
        tmp_path, hub, clock, driver="http", http_url="http://127.0.0.1:9/x"
    )
    try:
        a = await create_client(world.ana, ClientInput(name="Eva Soto", phones=["+34600000001"]))
        b = await create_client(world.ana, ClientInput(name="Juan Gil", phones=["+34600000002"]))
        await http_login(http, srv.url, "ana", world.password)
        async with http.get(f"{srv.url}/clients") as resp:
            listing = await resp.text()
        assert 'formaction="/clients/bulk-dialer"' in listing
        assert f'name="client_ids" value="{a.id}"' in listing
        async with http.get(f"{srv.url}/clients/{a.id}") as resp:
            assert f"/sms/new?client_id={a.id}" in await resp.text()
        token = await _token(http, srv.url)
        async with http.post(
            f"{srv.url}/clients/bulk-dialer",
            data={"csrf_token": token, "client_ids": [str(a.id), str(b.id)]},
        ) as resp:
            assert resp.status == 200
            assert "Eva Soto" in await resp.text()
        dialer = await DialerList.get(owner_id=world.ana.id)
        assert await DialerEntry.filter(dialer_list_id=dialer.id).count() == 2
        async with http.post(
            f"{srv.url}/clients/bulk-sms",
            data={
                "csrf_token": token,
                "client_ids": [str(a.id), str(b.id)],
                "template": "Hola {first_name}",
            },
        ) as resp:
            assert resp.status == 200
            page = await resp.text()
        assert "Hola Eva" in page and "Hola Juan" in page
        assert await OutboxMessage.filter(kind="sms").count() == 2
    finally:
        await runner.cleanup()


async def test_the_sms_form_queues_and_refuses_a_too_long_message(
    world, hub, clock, tmp_path, http
):
    runner, srv = await _server(
        tmp_path,
        hub,
        clock,
        driver="http",
        http_url="http://127.0.0.1:9/x",
        max_length=20,
        long_messages="refuse",
    )
    try:
        await http_login(http, srv.url, "luis", world.password)
        token = await _token(http, srv.url)
        async with http.post(
            f"{srv.url}/sms/new",
            data={"csrf_token": token, "to": "+34600000001", "text": "x" * 30},
        ) as resp:
            assert resp.status == 422
            assert "admite como máximo 20" in await resp.text()
        async with http.post(
            f"{srv.url}/sms/new", data={"csrf_token": token, "to": "+34600000001", "text": "Hola"}
        ) as resp:
            assert resp.status == 200
        assert await Sms.filter(text="Hola", status="queued").count() == 1
    finally:
        await runner.cleanup()


async def test_the_delivery_report_webhook_needs_the_secret_and_updates_the_sms(
    world, hub, clock, tmp_path, http
):
    runner, srv = await _server(
        tmp_path,
        hub,
        clock,
        driver="http",
        http_url="http://127.0.0.1:9/x",
        status_secret=SecretStr("hook-secret"),
    )
    try:
        sms = await Sms.create(
            direction="out", number="+34600000001", text="x", status="sent", created_at=clock.now()
        )
        url = f"{srv.url}/api/sms/status"
        async with http.post(url, json={"ref": str(sms.id), "status": "delivered"}) as resp:
            assert resp.status == 403
        async with http.post(
            url,
            json={"ref": f"{sms.id}.1", "status": "DELIVRD"},
            headers={"X-Sms-Secret": "hook-secret"},
        ) as resp:
            assert resp.status == 200, await resp.text()
        assert (await Sms.get(id=sms.id)).status == "delivered"
        async with http.post(
            url, json={"ref": "999999", "status": "failed", "secret": "hook-secret"}
        ) as resp:
            assert resp.status == 404
    finally:
        await runner.cleanup()
