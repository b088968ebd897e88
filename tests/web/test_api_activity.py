"""Tasks, notes, calls and users through /api/v1, as the panel shows them to the same user:
Luis (an agent) works with his own and gets 404 for Marta's; Ana (admin) sees them all."""

from __future__ import annotations

from models.contacts import clients as client_ops
from models.contacts import notes as note_ops
from models.sales import leads as lead_ops
from models.schema.calls import Call
from models.schema.tasks import Task
from models.work import tasks as task_ops
from tests.web.api_support import api, token_of


async def test_tasks_create_list_tick_and_delete(world, world_server, http, clock):
    url = world_server.url
    luis = await token_of(world.luis, clock)
    martas = await task_ops.create_task(
        world.marta,
        task_ops.TaskInput(title="Tarea De Marta", due_at=clock.now()),
        clock=clock,
    )
    status, body, headers = await api(
        http, url, "POST", "/tasks", luis,
        json={"title": "Llamar a Eva", "due_at": "2026-11-26T09:30:00+01:00", "kind": "call"},
    )  # fmt: skip
    assert status == 201, body
    assert headers["Location"] == f"/api/v1/tasks/{body['id']}"
    assert body["assignee_ids"] == [world.luis.id] and body["due_at"].startswith("2026-11-26T08:30")
    task_id = body["id"]

    status, body, _ = await api(http, url, "GET", "/tasks", luis)
    assert [t["title"] for t in body["items"]] == ["Llamar a Eva"]
    status, body, _ = await api(http, url, "GET", "/tasks?scope=all", luis)
    assert status == 403  # the panel's rule: his group may not see others' tasks
    assert (await api(http, url, "GET", f"/tasks/{martas.id}", luis))[0] == 404
    assert (await api(http, url, "POST", f"/tasks/{martas.id}/done", luis))[0] == 404
    ana = await token_of(world.ana, clock, scope="read")
    status, body, _ = await api(http, url, "GET", "/tasks?scope=all&limit=1", ana)
    assert len(body["items"]) == 1 and body["next_cursor"]

    status, body, _ = await api(http, url, "POST", f"/tasks/{task_id}/done", luis)
    assert status == 200 and body["is_done"] and body["done_at"]
    status, body, _ = await api(http, url, "GET", "/tasks?status=done", luis)
    assert [t["id"] for t in body["items"]] == [task_id]
    status, body, _ = await api(
        http, url, "POST", "/tasks", luis, json={"title": "X", "due_at": "mañana"}
    )
    assert (status, body["field"]) == (422, "due_at")
    status, body, _ = await api(
        http, url, "POST", "/tasks", luis,
        json={"title": "X", "due_at": "2026-11-26T09:30:00Z", "client_id": 999_999},
    )  # fmt: skip
    assert status in (404, 422)
    assert (await api(http, url, "DELETE", f"/tasks/{task_id}", luis))[0] == 204
    assert not await Task.exists(id=task_id)


async def test_notes_of_a_client_and_of_a_lead(world, world_server, http, clock):
    url = world_server.url
    luis = await token_of(world.luis, clock)
    mine = await client_ops.create_client(
        world.luis, client_ops.ClientInput(name="Bodega"), clock=clock
    )
    hers = await client_ops.create_client(
        world.marta, client_ops.ClientInput(name="Hostal"), clock=clock
    )
    lead = await lead_ops.create_lead(world.luis, lead_ops.LeadInput(name="Eva"), clock=clock)
    status, body, _ = await api(
        http, url, "POST", f"/clients/{mine.id}/notes", luis, json={"text": "Quiere 3 cajas"}
    )
    assert status == 201, body
    assert (body["client_id"], body["author_id"]) == (mine.id, world.luis.id)
    status, body, _ = await api(http, url, "GET", f"/clients/{mine.id}/notes", luis)
    assert [n["text"] for n in body["items"]] == ["Quiere 3 cajas"]
    # The panel's card shows the same note.
    assert [n.text for n in await note_ops.notes_of(client_id=mine.id)] == ["Quiere 3 cajas"]

    status, body, _ = await api(
        http, url, "POST", f"/leads/{lead.id}/notes", luis, json={"text": "Llamar el lunes"}
    )
    assert status == 201 and body["lead_id"] == lead.id
    status, body, _ = await api(http, url, "GET", f"/leads/{lead.id}/notes", luis)
    assert [n["text"] for n in body["items"]] == ["Llamar el lunes"]

    for method, payload in (("GET", None), ("POST", {"text": "Hola"})):
        status, body, _ = await api(http, url, method, f"/clients/{hers.id}/notes", luis,
                                    json=payload)  # fmt: skip
        assert status == 404 and "Hostal" not in body["detail"]
    status, body, _ = await api(
        http, url, "POST", f"/clients/{mine.id}/notes", luis, json={"text": ""}
    )
    assert (status, body["field"]) == (422, "text")


async def test_calls_read_as_the_panel_shows_them(world, world_server, http, clock):
    url = world_server.url
    common = {"direction": "in", "result": "answered", "started_at": clock.now()}
    own = await Call.create(from_number="+34600000001", agent=world.luis, **common)
    hers = await Call.create(
        from_number="+34600000002", agent=world.marta, recording_path="x.wav", **common
    )
    luis = await token_of(world.luis, clock, scope="read")
    status, body, _ = await api(http, url, "GET", "/calls", luis)
    assert [c["id"] for c in body["items"]] == [own.id]
    assert (await api(http, url, "GET", f"/calls/{hers.id}", luis))[0] == 404
    ana = await token_of(world.ana, clock, scope="read")
    status, body, _ = await api(http, url, "GET", f"/calls/{hers.id}", ana)
    assert status == 200 and body["has_recording"] and body["agent_id"] == world.marta.id
    status, body, _ = await api(http, url, "GET", f"/calls?user_id={world.marta.id}", ana)
    assert [c["id"] for c in body["items"]] == [hers.id]
    status, body, _ = await api(http, url, "GET", "/calls?result=lost", ana)
    assert (status, body["field"]) == (422, "result")
    assert (await api(http, url, "POST", "/calls", ana, json={}))[0] == 405


async def test_users_read(world, world_server, http, clock):
    url = world_server.url
    luis = await token_of(world.luis, clock, scope="read")
    status, body, _ = await api(http, url, "GET", "/users", luis)
    assert status == 200
    assert [u["username"] for u in body["items"]] == ["ana", "luis", "marta"]
    assert "password_hash" not in body["items"][0]
    status, body, _ = await api(http, url, "GET", f"/users/{world.marta.id}", luis)
    assert (body["username"], body["extension"]) == ("marta", "102")
    assert (await api(http, url, "GET", "/users/999999", luis))[0] == 404
