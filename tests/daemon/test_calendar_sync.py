"""Two-way Google Calendar sync (K2) with the real google-api-python-client (its shipped
Calendar v3 discovery document) against a local Google that keeps events and sync tokens as
the real API does: what a user sees in each place after each change on the other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.schema.calendar_sync import GoogleCalendarLink, GoogleEventLink
from models.schema.tasks import Task
from models.work import tasks as task_ops
from models.work.calendar_sync import SyncReport
from tests.daemon.calendar_world import connect, email_of, live, runner_for, soon
from tests.fakes.google_calendar import FakeGoogle


@pytest.fixture
async def google():
    async with FakeGoogle() as fake:
        yield fake


async def sync(runner, link) -> SyncReport:
    result = await runner.sync_link(link, force_pull=True)
    assert isinstance(result, SyncReport), result
    return result


async def plan(user, title="Llamar a Ana", due=None, **more):
    data = task_ops.TaskInput(title=title, due_at=due or soon(), **more)
    return await task_ops.create_task(user, data)


def google_event(title, start, minutes=60, **more):
    end = start + timedelta(minutes=minutes)
    return {
        "summary": title,
        "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": end.isoformat(), "timeZone": "UTC"},
        **more,
    }


async def test_a_task_becomes_an_event_in_each_participants_calendar(world, hub, google):
    ana_link = await connect(google, world.ana)
    luis_link = await connect(google, world.luis)
    runner = runner_for(google, hub)
    due = soon(2, hour=9)
    task = await plan(
        world.ana,
        due=due,
        assignee_ids=[world.ana.id, world.luis.id],
        duration_minutes=45,
        description="Presupuesto",
    )
    report = await sync(runner, ana_link)
    assert report.google_created == 1
    await sync(runner, luis_link)
    for user in (world.ana, world.luis):
        [event] = live(google, user)
        assert event["summary"] == "Llamar a Ana"
        assert event["description"] == "Presupuesto"
        start = datetime.fromisoformat(event["start"]["dateTime"])
        end = datetime.fromisoformat(event["end"]["dateTime"])
        assert start == due and end - start == timedelta(minutes=45)
        assert event["start"]["timeZone"] == "Europe/Madrid"  # the user's time zone
    assert await GoogleEventLink.filter(task_id=task.id).count() == 2


async def test_a_sync_with_nothing_new_makes_one_call_and_changes_nothing(world, hub, google):
    link = await connect(google, world.ana)
    runner = runner_for(google, hub)
    await plan(world.ana)
    google.insert_event(email_of(world.ana), email_of(world.ana), google_event("Demo", soon(3)))
    await sync(runner, link)
    google.api_calls.clear()
    report = await sync(runner, await GoogleCalendarLink.get(id=link.id))
    assert report.api_calls == 1 and len(google.api_calls) == 1
    assert google.api_calls[0][0] == "GET"
    changed = (report.crm_created, report.crm_updated, report.google_created, report.google_updated)
    assert changed == (0, 0, 0, 0)


async def test_an_event_made_in_google_becomes_a_task_and_never_comes_back(world, hub, google):
    link = await connect(google, world.ana)
    runner = runner_for(google, hub)
    start = soon(1, hour=15)
    email = email_of(world.ana)
    google.insert_event(email, email, google_event("Visita a Iberdrola", start, 90))
    report = await sync(runner, link)
    assert report.crm_created == 1 and report.google_created == 0
    task = await Task.get(title="Visita a Iberdrola").prefetch_related("assignees")
    assert task.due_at == start and task.duration_minutes == 90
    assert [u.id for u in task.assignees] == [world.ana.id]
    # The next syncs neither write it back to Google nor import it twice.
    for _ in range(2):
        again = await sync(runner, await GoogleCalendarLink.get(id=link.id))
        assert (again.crm_created, again.google_created) == (0, 0)
    assert len(live(google, world.ana)) == 1
    assert await Task.filter(title="Visita a Iberdrola").count() == 1


async def test_options_off_keep_each_side_to_itself(world, hub, google):
    link = await connect(google, world.ana, push=False, pull=False)
    runner = runner_for(google, hub)
    await plan(world.ana)
    email = email_of(world.ana)
    google.insert_event(email, email, google_event("Solo en Google", soon()))
    report = await sync(runner, link)
    assert (report.crm_created, report.google_created) == (0, 0)
    assert [e["summary"] for e in live(google, world.ana)] == ["Solo en Google"]


async def test_edits_moves_and_completions_travel_both_ways(world, hub, google):
    link = await connect(google, world.ana)
    runner = runner_for(google, hub)
    task = await plan(world.ana, due=soon(1, 9))
    await sync(runner, link)
    # Moved in the CRM -> moved in Google.
    await task_ops.reschedule_task(world.ana, task.id, soon(4, 12))
    report = await sync(runner, await GoogleCalendarLink.get(id=link.id))
    assert report.google_updated == 1
    [event] = live(google, world.ana)
    assert datetime.fromisoformat(event["start"]["dateTime"]) == soon(4, 12)
    # Renamed and moved in Google -> in the CRM.
    email = email_of(world.ana)
    google.patch_event(
        email, email, event["id"], google_event("Llamar a Ana (urgente)", soon(5, 8), 15)
    )
    report = await sync(runner, await GoogleCalendarLink.get(id=link.id))
    assert report.crm_updated == 1 and report.google_updated == 0
    task = await Task.get(id=task.id)
    assert task.title == "Llamar a Ana (urgente)"
    assert task.due_at == soon(5, 8) and task.duration_minutes == 15
    # Ticked in the CRM -> marked done in Google.
    await task_ops.complete_task(world.ana, task.id)
    await sync(runner, await GoogleCalendarLink.get(id=link.id))
    [event] = live(google, world.ana)
    assert event["summary"] == "✓ Llamar a Ana (urgente)"
    # The mark taken off in Google reopens the task; put back, it ticks it again.
    google.patch_event(email, email, event["id"], {"summary": "Llamar a Ana (urgente)"})
    await sync(runner, await GoogleCalendarLink.get(id=link.id))
    assert not (await Task.get(id=task.id)).is_done
    google.patch_event(email, email, event["id"], {"summary": "✓ Llamar a Ana (urgente)"})
    await sync(runner, await GoogleCalendarLink.get(id=link.id))
    assert (await Task.get(id=task.id)).is_done


async def test_deletions_travel_both_ways(world, hub, google):
    ana_link = await connect(google, world.ana)
    luis_link = await connect(google, world.luis)
    runner = runner_for(google, hub)
    alone = await plan(world.ana, title="Sola")
    shared = await plan(world.ana, title="Compartida", assignee_ids=[world.ana.id, world.luis.id])
    await sync(runner, ana_link)
    await sync(runner, luis_link)
    # Deleted in the CRM -> deleted in Google.
    await task_ops.delete_task(world.ana, alone.id)
    report = await sync(runner, await GoogleCalendarLink.get(id=ana_link.id))
    assert report.google_deleted == 1
    assert [e["summary"] for e in live(google, world.ana)] == ["Compartida"]
    # Luis deletes the shared event in his Google: he leaves the task, Ana keeps it.
    email = email_of(world.luis)
    [event] = live(google, world.luis)
    google.delete_event(email, email, event["id"])
    report = await sync(runner, await GoogleCalendarLink.get(id=luis_link.id))
    assert report.crm_updated == 1 and report.crm_deleted == 0
    task = await Task.get(id=shared.id).prefetch_related("assignees")
    assert [u.id for u in task.assignees] == [world.ana.id]
    # Ana deletes it in her Google: she was the last participant, the task goes.
    email = email_of(world.ana)
    [event] = live(google, world.ana)
    google.delete_event(email, email, event["id"])
    report = await sync(runner, await GoogleCalendarLink.get(id=ana_link.id))
    assert report.crm_deleted == 1
    assert not await Task.exists(id=shared.id)


@pytest.mark.parametrize("later", ["crm", "google"])
async def test_when_both_sides_changed_the_later_change_wins(world, hub, google, later):
    link = await connect(google, world.ana)
    runner = runner_for(google, hub)
    task = await plan(world.ana, title="Original")
    await sync(runner, link)
    email = email_of(world.ana)
    [event] = live(google, world.ana)

    async def in_crm():
        data = task_ops.TaskInput(title="Cambiado en el CRM", due_at=task.due_at)
        await task_ops.update_task(world.ana, task.id, data)

    def in_google():
        google.patch_event(email, email, event["id"], {"summary": "Cambiado en Google"})

    if later == "crm":
        in_google()
        await in_crm()  # microseconds later than Google's stamp (milliseconds, cut down)
    else:
        await in_crm()
        # The CRM's change an hour ago: Google's, now, is the later one.
        before = (await Task.get(id=task.id)).updated_at - timedelta(hours=1)
        await Task.filter(id=task.id).update(updated_at=before)
        in_google()
    await sync(runner, await GoogleCalendarLink.get(id=link.id))
    winner = "Cambiado en el CRM" if later == "crm" else "Cambiado en Google"
    assert (await Task.get(id=task.id)).title == winner
    assert [e["summary"] for e in live(google, world.ana)] == [winner]


async def test_410_means_a_full_read_that_duplicates_nothing(world, hub, google):
    link = await connect(google, world.ana)
    runner = runner_for(google, hub)
    await plan(world.ana, title="Del CRM")
    email = email_of(world.ana)
    google.insert_event(email, email, google_event("De Google", soon(2)))
    await sync(runner, link)
    google.invalidate_sync_tokens(email)
    google.insert_event(email, email, google_event("Nuevo en Google", soon(3)))
    report = await sync(runner, await GoogleCalendarLink.get(id=link.id))
    assert report.full_read
    assert (report.crm_created, report.google_created) == (1, 0)
    titles = sorted(await Task.all().values_list("title", flat=True))
    assert titles == ["De Google", "Del CRM", "Nuevo en Google"]
    assert len(live(google, world.ana)) == 3


@pytest.mark.parametrize("status", [403, 429])
async def test_rate_limit_answers_are_retried(world, hub, google, status):
    link = await connect(google, world.ana)
    runner = runner_for(google, hub)
    await plan(world.ana)
    google.fail_next(2, status=status, reason="rateLimitExceeded")
    report = await sync(runner, link)
    assert report.google_created == 1
    assert report.api_calls == 4  # two refused, the list, the insert
    assert len(live(google, world.ana)) == 1


async def test_one_broken_connection_does_not_stop_the_others(world, hub, google):
    ana_link = await connect(google, world.ana)
    luis_link = await connect(google, world.luis)
    runner = runner_for(google, hub, retries=0)
    await plan(world.ana, title="De Ana")
    await plan(world.luis, title="De Luis")
    luis_link.refresh_token_sealed = await connect_token(google, world.luis, revoked=True)
    await luis_link.save()
    results = await runner.sync_due()
    assert isinstance(results[world.ana.id], SyncReport)
    assert "connect the calendar again" in results[world.luis.id]
    assert [e["summary"] for e in live(google, world.ana)] == ["De Ana"]
    luis_link = await GoogleCalendarLink.get(id=luis_link.id)
    assert luis_link.needs_reconnect and luis_link.last_error
    # Google down for Ana: her failure is kept, and she waits before the next try.
    await GoogleCalendarLink.filter(id=ana_link.id).update(sync_token="")
    google.fail_next(1, status=400, reason="badRequest")
    results = await runner.sync_due(force_pull=True)
    ana_link = await GoogleCalendarLink.get(id=ana_link.id)
    assert ana_link.failures == 1 and ana_link.next_attempt_at is not None
    assert await runner.sync_due(force_pull=True) == {}  # both wait: nothing is tried


async def connect_token(google, user, *, revoked):
    import aiohttp

    from tests.daemon.calendar_world import BOX

    token = google.issue_refresh_token(email_of(user))
    if revoked:
        async with aiohttp.ClientSession() as session:
            await session.post(google.revoke_uri, data={"token": token})
    return BOX.seal(token)


async def test_recurring_events_become_one_task_per_occurrence(world, hub, google):
    link = await connect(google, world.ana)
    runner = runner_for(google, hub)
    email = email_of(world.ana)
    first = soon(1, 8)
    series = google.insert_event(
        email,
        email,
        google_event("Reunión semanal", first, 30, recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"]),
    )
    report = await sync(runner, link)
    assert report.crm_created == 4
    dues = sorted(await Task.filter(title="Reunión semanal").values_list("due_at", flat=True))
    assert dues == [first + timedelta(weeks=i) for i in range(4)]
    # One occurrence moved in Google: only its task moves.
    instance = f"{series['id']}_{(first + timedelta(weeks=2)).strftime('%Y%m%dT%H%M%SZ')}"
    google.patch_event(
        email,
        email,
        instance,
        google_event("Reunión semanal", first + timedelta(weeks=2, hours=3), 30),
    )
    report = await sync(runner, await GoogleCalendarLink.get(id=link.id))
    assert report.crm_updated == 1 and report.crm_created == 0
    dues = sorted(await Task.filter(title="Reunión semanal").values_list("due_at", flat=True))
    assert first + timedelta(weeks=2, hours=3) in dues and first + timedelta(weeks=2) not in dues
    # The series deleted: all its tasks go.
    google.delete_event(email, email, series["id"])
    await sync(runner, await GoogleCalendarLink.get(id=link.id))
    assert await Task.filter(title="Reunión semanal").count() == 0


async def test_all_day_events_and_tasks(world, hub, google):
    link = await connect(google, world.ana)
    runner = runner_for(google, hub)
    email = email_of(world.ana)
    day = soon(3).date()
    google.insert_event(
        email,
        email,
        {
            "summary": "Feria",
            "start": {"date": day.isoformat()},
            "end": {"date": (day + timedelta(days=2)).isoformat()},
        },
    )
    await sync(runner, link)
    task = await Task.get(title="Feria")
    assert task.all_day and task.duration_minutes == 2 * 1440
    madrid = task.due_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Madrid"))
    assert (madrid.date(), madrid.hour, madrid.minute) == (day, 0, 0)
    # An all-day task of the CRM goes to Google as an all-day event.
    due = datetime.combine(
        day + timedelta(days=7),
        datetime.min.time(),
        __import__("zoneinfo").ZoneInfo("Europe/Madrid"),
    )
    await plan(world.ana, title="Inventario", due=due, all_day=True, duration_minutes=1440)
    await sync(runner, await GoogleCalendarLink.get(id=link.id))
    [event] = [e for e in live(google, world.ana) if e["summary"] == "Inventario"]
    assert event["start"] == {"date": (day + timedelta(days=7)).isoformat()}
    assert event["end"] == {"date": (day + timedelta(days=8)).isoformat()}


async def test_time_zones_are_kept(world, hub, google):
    link = await connect(google, world.ana)
    runner = runner_for(google, hub)
    email = email_of(world.ana)
    local = (soon(2) + timedelta(days=0)).replace(tzinfo=None, hour=10)
    google.insert_event(
        email,
        email,
        {
            "summary": "Llamada a Nueva York",
            "start": {"dateTime": local.isoformat(), "timeZone": "America/New_York"},
            "end": {
                "dateTime": (local + timedelta(hours=1)).isoformat(),
                "timeZone": "America/New_York",
            },
        },
    )
    await sync(runner, link)
    task = await Task.get(title="Llamada a Nueva York")
    expected = local.replace(tzinfo=__import__("zoneinfo").ZoneInfo("America/New_York"))
    assert task.due_at == expected.astimezone(UTC)


async def test_attendees_join_the_task_and_an_invitation_is_not_a_second_task(world, hub, google):
    ana_link = await connect(google, world.ana)
    luis_link = await connect(google, world.luis)
    runner = runner_for(google, hub)
    ana, luis = email_of(world.ana), email_of(world.luis)
    start = soon(2, 11)
    event = google.insert_event(
        ana,
        ana,
        google_event("Demo con cliente", start, attendees=[{"email": ana}, {"email": luis}]),
    )
    # Google puts the invitation in Luis's calendar: the same iCalUID.
    google.insert_event(
        luis,
        luis,
        google_event(
            "Demo con cliente",
            start,
            attendees=[{"email": ana}, {"email": luis}],
            iCalUID=event["iCalUID"],
        ),
    )
    await sync(runner, ana_link)
    report = await sync(runner, luis_link)
    assert report.crm_created == 0 and report.google_created == 0
    [task] = await Task.filter(title="Demo con cliente").prefetch_related("assignees")
    assert sorted(u.id for u in task.assignees) == sorted([world.ana.id, world.luis.id])
    assert len(live(google, world.luis)) == 1  # no copy written next to the invitation


async def test_push_channel_when_public_url_is_https(world, hub, google):
    link = await connect(google, world.ana)
    runner = runner_for(google, hub, public_url="https://crm.acme.example")
    await sync(runner, link)
    [channel] = google.channels.values()
    assert channel["address"] == "https://crm.acme.example/google/calendar/notify"
    link = await GoogleCalendarLink.get(id=link.id)
    assert link.channel_id == channel["id"] and link.channel_token_hash != channel["token"]
    # A plain-http address gets no channel: it is polled.
    other = await connect(google, world.luis)
    await sync(runner_for(google, hub, public_url="http://crm.local"), other)
    assert len(google.channels) == 1
