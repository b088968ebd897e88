"""Task reminders on the panel's open pages (T3), as live-socket messages.

The domain announces a reminder once (models/work/reminders.py); the relay (live.py) sends it
to every open page of the assignee, rendered here in their language and time zone. A page
opened later asks for the recent ones on connect; reminders.js shows each once per browser.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models.core.events import TaskReminderDue
from web.i18n import Catalogs, Formatter


def reminder_message(
    event: TaskReminderDue, catalogs: Catalogs, now: datetime, *, replay: bool = False
) -> dict[str, Any]:
    """The notice and browser notification of one reminder (reminders.js shows it)."""
    _ = catalogs.get(event.language).gettext
    fmt = Formatter(event.language, event.time_zone)
    if fmt.local(event.due_at).date() == fmt.local(now).date():
        when = _("Due at %(time)s") % {"time": fmt.time(event.due_at)}
    else:  # a reminder set days ahead
        when = _("Due on %(when)s") % {"when": fmt.datetime(event.due_at)}
    return {
        "type": "reminder",
        # One reminder: this task at this due time (a rescheduled task reminds again).
        "key": f"{event.task_id}:{event.due_at.isoformat()}",
        "task_id": event.task_id,
        "url": f"/tasks/{event.task_id}",
        "title": event.title,
        "about": event.about,
        "heading": _("Reminder"),
        "when": when,
        "replay": replay,
        "labels": {
            "open": _("Open the task"),
            "close": _("Close"),
            "allow": _("Allow browser notifications"),
        },
    }
