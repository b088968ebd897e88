"""The daemon's calendar runner: Google's push notification (or "sync now") reaches the
user's sync at once, and a full sync cycle leaves the connection healthy. The local Google
answers on the test's own event loop, so a Google call that blocked the loop would hang
these tests instead of passing."""

from __future__ import annotations

import pytest

from daemon.scheduler import Scheduler
from models.core.events import CalendarSyncRequested
from models.schema.calendar_sync import GoogleCalendarLink
from models.schema.tasks import Task
from models.work import google_calendar as connections
from tests.daemon.calendar_world import connect, email_of, runner_for, soon
from tests.fakes.google_calendar import FakeGoogle


@pytest.fixture
async def google():
    async with FakeGoogle() as fake:
        yield fake


def event(title, start):
    return {
        "summary": title,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": start.replace(hour=start.hour + 1).isoformat()},
    }


async def test_a_push_notification_syncs_that_user_at_once(world, hub, google, clock):
    link = await connect(google, world.ana)
    runner = runner_for(google, hub, public_url="https://crm.acme.example")
    scheduler = Scheduler()  # not started: only the notification may sync
    await runner.start(scheduler)
    try:
        hub.publish(CalendarSyncRequested(world.ana.id))
        await hub.drain()
        [channel] = google.channels.values()
        email = email_of(world.ana)
        google.insert_event(email, email, event("Nueva cita", soon(2, 10)))
        # Google tells the CRM: the web endpoint checks the channel's token...
        user_id = await connections.notification_received(
            channel["id"], channel["token"], clock=clock
        )
        assert user_id == world.ana.id
        assert not await connections.notification_received(channel["id"], "forged", clock=clock)
        # ...and publishes the request the runner acts on.
        hub.publish(CalendarSyncRequested(user_id))
        await hub.drain()
        assert await Task.filter(title="Nueva cita").count() == 1
        link = await GoogleCalendarLink.get(id=link.id)
        assert link.pull_requested_at is None and link.failures == 0
    finally:
        await runner.stop()
    assert "calendar-sync" not in scheduler.job_names


async def test_the_scheduled_pass_skips_calendars_not_chosen_yet(world, hub, google):
    await connect(google, world.ana)
    link = await connect(google, world.luis)
    link.calendar_id = ""
    await link.save()
    runner = runner_for(google, hub)
    results = await runner.sync_due()
    assert list(results) == [world.ana.id]
