"""Due times typed in a chat ("mañana 10:00", "friday 15:30") read in the user's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import dateparser

from bot.cards import zone


def parse_due(typed: str, *, tz_name: str, now: datetime, lang: str) -> datetime | None:
    """The moment `typed` means, in UTC, relative to `now`; None when it is not a date."""
    tz = zone(tz_name)
    local_now = now.astimezone(tz).replace(tzinfo=None)
    languages = [lang] + [other for other in ("es", "en") if other != lang]
    parsed = dateparser.parse(
        typed,
        languages=languages,
        settings={
            "TIMEZONE": str(tz),
            "RETURN_AS_TIMEZONE_AWARE": True,
            "RELATIVE_BASE": local_now,
            "PREFER_DATES_FROM": "future",
        },
    )
    return parsed.astimezone(UTC) if parsed is not None else None
