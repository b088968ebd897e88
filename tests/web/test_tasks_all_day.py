"""All-day tasks in the panel: the task form's "All day" box (the time ignored, the day's local
midnight, whole days), and "All day" instead of a time on the list, the calendar and the task's
page, in English and Spanish."""

from __future__ import annotations

from datetime import UTC, datetime

from models.schema.tasks import Task
from models.schema.users import User
from tests.web.conftest import csrf_from, http_login


async def _get(http, url):
    async with http.get(url) as resp:
        assert resp.status == 200
        return await resp.text()


async def _save(http, url, path, fields):
    token = csrf_from(await _get(http, url + "/tasks/new"))
    data = {"csrf_token": token, "kind": "task", **fields}
    async with http.post(url + path, data=data, allow_redirects=False) as resp:
        assert resp.status == 303, await resp.text()


async def test_an_all_day_task_is_due_at_local_midnight_and_shows_all_day(
    world, world_server, http
):
    url = world_server.url
    await User.filter(id=world.ana.id).update(language="en")
    await http_login(http, url, "ana", world.password)
    assert 'name="all_day"' in await _get(http, url + "/tasks/new")
    fields = {
        "title": "Trade fair",
        "due_at": "2026-11-27T15:30",  # the time is ignored
        "all_day": "1",
        "duration_minutes": "30",
        "duration_days": "2",
        "assignee_ids": str(world.ana.id),
    }
    await _save(http, url, "/tasks/new", fields)
    task = await Task.get(title="Trade fair")
    # Ana's time zone is Europe/Madrid: midnight there is 23:00 UTC the day before.
    assert task.all_day
    assert task.due_at == datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    assert task.duration_minutes == 2 * 24 * 60

    listing = await _get(http, url + "/tasks?status=any")
    assert "Nov 27, 2026 · All day</span>" in listing  # the date, no time
    calendar = await _get(http, url + "/calendar?view=month&date=2026-11-01")
    assert f'href="/tasks/{task.id}"' in calendar
    assert "All day Trade fair" in " ".join(calendar.split())
    page = await _get(http, url + f"/tasks/{task.id}")
    assert 'name="all_day" value="1" checked' in page
    assert 'name="duration_days" type="number" value="2"' in page

    await User.filter(id=world.ana.id).update(language="es")
    assert "Todo el día" in await _get(http, url + "/tasks?status=any")
    assert "Todo el día" in await _get(http, url + "/calendar?view=week&date=2026-11-27")

    # Unticked: an ordinary task at the time typed again.
    fields.pop("all_day")
    await _save(http, url, f"/tasks/{task.id}", fields | {"due_at": "2026-11-27T09:30"})
    task = await Task.get(id=task.id)
    assert not task.all_day
    assert task.due_at == datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
    assert task.duration_minutes == 30


async def test_an_all_day_task_needs_a_date(world, world_server, http):
    url = world_server.url
    await User.filter(id=world.ana.id).update(language="en")
    await http_login(http, url, "ana", world.password)
    token = csrf_from(await _get(http, url + "/tasks/new"))
    data = {"csrf_token": token, "title": "No day", "all_day": "1", "due_at": ""}
    async with http.post(url + "/tasks/new", data=data) as resp:
        assert resp.status == 422
        assert "Choose a date." in await resp.text()
    assert not await Task.filter(title="No day").exists()
