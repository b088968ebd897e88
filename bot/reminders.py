"""Reminders before a task is due and the daily digest (B4), as outbox rows.

The composition root calls these every minute (APScheduler). Each message has a dedupe key,
so running them again, twice, or from two processes sends nothing twice. Each is rendered in
its recipient's language (`speaking`): they are made outside any update.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.cards import local_time, zone
from bot.delivery import TelegramOutbox
from bot.i18n import language_of, speaking
from models.core.clock import Clock
from models.messaging import outbox
from models.messaging import telegram_links as telegram
from models.people.schedule import is_working_at, validate_schedule
from models.reporting.dashboard import dashboard_numbers
from models.schema.users import User

logger = logging.getLogger(__name__)

# Users who set no working hours get their digest at 09:00 on weekdays.
DEFAULT_WORKDAY = validate_schedule(
    {"kind": "weekly", "days": {str(d): [["09:00", "18:00"]] for d in range(5)}}
)
# A shift "starts" when the user works now but did not at some point in this look-back; so a
# scheduler that skipped a few minutes still sends the digest, and midnight inside a night
# shift is not a start.
SHIFT_START_LOOKBACK = timedelta(minutes=30)


async def send_due_reminders(clock: Clock, telegram_outbox: TelegramOutbox) -> int:
    """Write a reminder for every task whose reminder time has come; return how many are new."""
    written = 0
    for task, user, _minutes in await telegram.reminders_due(clock):
        key = f"tg:remind:{task.id}:{user.id}:{task.due_at.isoformat()}"
        if await outbox.id_by_dedupe_key(key) is not None:
            continue  # reminded already (for this due time)
        about = task.client or task.lead
        with speaking(user.language):
            body = _("⏰ In %(minutes)s min: %(title)s (%(due)s)%(who)s") % {
                "minutes": max(1, int((task.due_at - clock.now()).total_seconds() + 59) // 60),
                "title": task.title,
                "due": local_time(task.due_at, user.time_zone, "%H:%M"),
                "who": f" — {about.name}" if about is not None else "",
            }
        await telegram_outbox.send(user.telegram_chat_id, body, dedupe_key=key, wake=False)
        written += 1
    if written:
        telegram_outbox.wake()
        logger.info("%d task reminders queued for telegram", written)
    return written


def shift_starts(user: User, now: datetime) -> bool:
    """Whether the user's working hours began within the look-back window."""
    schedule = user.work_schedule or DEFAULT_WORKDAY
    tz = zone(user.time_zone)
    if not is_working_at(schedule, tz, now):
        return False
    steps = int(SHIFT_START_LOOKBACK / timedelta(minutes=5))
    return any(
        not is_working_at(schedule, tz, now - timedelta(minutes=5 * k)) for k in range(1, steps + 1)
    )


# Where each language's greeting changes, in the user's local hours: (day, afternoon, night)
# begin. A Spanish "buenos días" lasts until lunch; an English "good morning" until noon.
GREETING_HOURS = {"es": (6, 14, 21), "en": (5, 12, 18)}


def greeting(user: User, now: datetime, lang: str) -> str:
    """Good morning / afternoon / evening by the hour in the user's zone (current locale)."""
    morning, afternoon, night = GREETING_HOURS.get(lang, GREETING_HOURS["es"])
    hour = now.astimezone(zone(user.time_zone)).hour
    name = {"name": str(user)}
    if morning <= hour < afternoon:
        return _("☀️ Good morning, %(name)s. Your digest:") % name
    if afternoon <= hour < night:
        return _("🌤 Good afternoon, %(name)s. Your digest:") % name
    return _("🌙 Good evening, %(name)s. Your digest:") % name


def digest_text(user: User, numbers: dict[str, Any], now: datetime, lang: str) -> str:
    """The digest in the current locale (the caller says whose with `speaking`)."""
    lines = [
        greeting(user, now, lang),
        _("📋 Tasks today: %(current)s, overdue: %(overdue)s")
        % {"current": numbers["tasks_current"], "overdue": numbers["tasks_overdue"]},
    ]
    for task in numbers["current_tasks"]:
        lines.append(f"  • {local_time(task['due_at'], user.time_zone, '%H:%M')} {task['title']}")
    lines += [
        _("✅ Tasks done this week: %(done)s of %(total)s")
        % {"done": numbers["tasks_week_done"], "total": numbers["tasks_week_total"]},
        _("🧲 Leads: %(handled)s yours open, %(unhandled)s unassigned, %(new_week)s new this week")
        % {
            "handled": numbers["leads_handled"],
            "unhandled": numbers["leads_unhandled"],
            "new_week": numbers["leads_new_week"],
        },
        _("👥 Clients: %(total)s, new this week: %(new_week)s")
        % {"total": numbers["clients_total"], "new_week": numbers["clients_new_week"]},
        _("📞 Calls this week: %(calls_in)s inbound, %(calls_out)s outbound")
        % {"calls_in": numbers["calls_in_week"], "calls_out": numbers["calls_out_week"]},
    ]
    return "\n".join(lines)


async def send_daily_digests(clock: Clock, telegram_outbox: TelegramOutbox) -> int:
    """Write the dashboard digest for every linked user whose working day starts now."""
    now = clock.now()
    written = 0
    for user in await telegram.linked_active_users():
        if not shift_starts(user, now):
            continue
        local_day = now.astimezone(zone(user.time_zone)).date().isoformat()
        key = f"tg:digest:{user.id}:{local_day}"
        if await outbox.id_by_dedupe_key(key) is not None:
            continue
        numbers = await dashboard_numbers(user, clock)
        lang = language_of(user.language)
        with speaking(lang):
            body = digest_text(user, numbers, now, lang)
        await telegram_outbox.send(user.telegram_chat_id, body, dedupe_key=key, wake=False)
        written += 1
    if written:
        telegram_outbox.wake()
        logger.info("%d daily digests queued for telegram", written)
    return written
