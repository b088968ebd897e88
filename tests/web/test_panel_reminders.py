"""T3 in Chromium: a task's reminder shows on every open page of its assignee, once, in their
language and time zone, with a link to the task; a page opened later shows what it missed."""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.schema.users import User
from models.work.reminders import announce_due_reminders
from models.work.tasks import TaskInput, create_task
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    log_in,
    open_tab,
    panel,
    screenshot,
)

DUE = datetime(2026, 11, 25, 10, 45, tzinfo=UTC)  # 11:45 in Madrid


async def test_a_due_reminder_shows_once_on_each_open_page_of_its_assignee(
    panel, contexts, world, clock
):
    await User.filter(id=world.luis.id).update(language="es")
    luis_task = await create_task(
        world.luis,
        TaskInput(title="Llamar a Juan", due_at=DUE, remind_minutes_before=15),
        clock=clock,
    )
    marta_task = await create_task(
        world.marta, TaskInput(title="Demo Pons", due_at=DUE, remind_minutes_before=15), clock=clock
    )
    luis_browser = await contexts()
    first = await log_in(luis_browser, panel, "luis", world.password)
    second = await open_tab(luis_browser, panel, "/tasks")
    marta = await log_in(await contexts(), panel, "marta", world.password)

    clock.set(DUE - timedelta(minutes=15))
    assert await announce_due_reminders(clock, panel.hub) == 2
    for page in (first, second):
        notice = page.locator(f'.cw-reminder[data-task-id="{luis_task.id}"]')
        await notice.wait_for()
        text = await notice.inner_text()
        assert "Recordatorio" in text and "Llamar a Juan" in text and "Vence a las 11:45" in text
        assert await notice.locator("a").get_attribute("href") == f"/tasks/{luis_task.id}"
        assert await page.locator(".cw-reminder").count() == 1
    await screenshot(first, "task-reminder-es")
    # Marta's notice is hers alone (published after Luis's: by then his would have arrived).
    await marta.locator(f'.cw-reminder[data-task-id="{marta_task.id}"]').wait_for()
    assert await marta.locator(f'.cw-reminder[data-task-id="{luis_task.id}"]').count() == 0
    assert "Due at 11:45" in await marta.locator(".cw-reminder").inner_text()
    assert await announce_due_reminders(clock, panel.hub) == 0  # the next minute: nothing new

    await first.locator(".cw-reminder .cw-pop-close").click()
    assert await first.locator(".cw-reminder").count() == 0
    # Luis closes the panel; a reminder comes due meanwhile; his next page shows that one only
    # (the reminders of a page are replayed in due order, the one already seen first).
    await first.close()
    await second.close()
    later = await create_task(
        world.luis,
        TaskInput(title="Enviar oferta", due_at=DUE + timedelta(hours=1), remind_minutes_before=15),
        clock=clock,
    )
    clock.set(DUE + timedelta(minutes=45))
    assert await announce_due_reminders(clock, panel.hub) == 1
    again = await open_tab(luis_browser, panel, "/")
    await again.locator(f'.cw-reminder[data-task-id="{later.id}"]').wait_for()
    assert await again.locator(".cw-reminder").count() == 1
    # The task link opens the task.
    await again.locator(".cw-reminder a").click()
    await again.wait_for_url(f"**/tasks/{later.id}")
    # The task form says where reminders go.
    help_text = await again.locator("#f-remind_minutes_before ~ .help").inner_text()
    assert "Los recordatorios aparecen en el panel, y en Telegram si tienes el chat" in help_text


# Records each browser notification the page raises (the real constructor still runs).
NOTIFICATION_SPY = """
(() => {
  const Real = window.Notification;
  window.__notifications = [];
  class Spy extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({ title, body: (options || {}).body, tag: (options || {}).tag });
    }
  }
  window.Notification = Spy;
})();
"""


async def test_a_browser_notification_where_the_user_allowed_them(panel, contexts, world, clock):
    task = await create_task(
        world.luis, TaskInput(title="Call Juan", due_at=DUE, remind_minutes_before=15), clock=clock
    )
    browser = await contexts()
    await browser.grant_permissions(["notifications"], origin=panel.url)
    await browser.add_init_script(NOTIFICATION_SPY)
    page = await log_in(browser, panel, "luis", world.password)
    clock.set(DUE - timedelta(minutes=15))
    assert await announce_due_reminders(clock, panel.hub) == 1
    notice = page.locator(f'.cw-reminder[data-task-id="{task.id}"]')
    await notice.wait_for()
    notes = await page.evaluate("window.__notifications")
    assert [(n["title"], n["body"]) for n in notes] == [("⏰ Call Juan", "Due at 11:45")]
    # Already allowed: the notice does not offer it again.
    assert await notice.locator(".cw-reminder-allow").count() == 0
