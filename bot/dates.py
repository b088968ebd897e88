"""Due times typed in a chat ("mañana a las 10", "el viernes 15:30", "tonight") read in the
user's language and time zone, and said back in words ("viernes 11 de diciembre, 15:30").

`dateparser` alone misreads the phrases agents type most ("10 de diciembre a las 12" became the
year 2112, "a las 10" midnight) and refuses others ("mañana por la mañana", "el viernes a las
15:30"). So the phrase is read in two passes: first our own small grammar takes out what it
knows, in Spanish and English (a time: "a las 10", "15:30", "3pm", "a las 5 de la tarde"; a part
of the day: "por la mañana", "esta noche", "tonight"; a day: "hoy", "mañana", "pasado mañana",
a weekday; an offset: "en 2 horas"); then whatever is left, a calendar date such as "10 de
diciembre" or "12/01", goes to `dateparser` with the user's languages, zone and clock.

The rules a person would guess:
- a time without a day is today, or tomorrow when that time has passed;
- a day without a time is at DEFAULT_TIME (09:00), or at the part of the day named;
- an hour from 1 to 7 with no "am/pm" or part of the day is in the afternoon (nobody plans a
  call for 5 in the morning);
- a weekday is the next one to come (on a Friday, "el viernes" is a week ahead);
- dates are read day first (10/12 is the 10th of December).
The bot always shows the result in words and asks to confirm it before saving.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import dateparser
from babel.dates import format_date

from bot.cards import zone

DEFAULT_TIME = time(9, 0)
# Where a part of the day puts a day that has no time of its own.
PART_TIMES = {
    "morning": time(9, 0),
    "noon": time(12, 0),
    "afternoon": time(16, 0),
    "evening": time(19, 0),
    "night": time(20, 0),
}
# A date further ahead than this is a misreading, not a plan.
MAX_YEARS_AHEAD = 5

_WEEKDAYS = {
    "lunes": 0, "monday": 0, "mon": 0,
    "martes": 1, "tuesday": 1, "tue": 1, "tues": 1,
    "miercoles": 2, "wednesday": 2, "wed": 2,
    "jueves": 3, "thursday": 3, "thu": 3, "thurs": 3,
    "viernes": 4, "friday": 4, "fri": 4,
    "sabado": 5, "saturday": 5, "sat": 5,
    "domingo": 6, "sunday": 6, "sun": 6,
}  # fmt: skip
_PARTS = {
    "manana": "morning", "morning": "morning",
    "mediodia": "noon", "noon": "noon",
    "tarde": "afternoon", "afternoon": "afternoon",
    "evening": "evening",
    "noche": "night", "night": "night",
}  # fmt: skip
_UNITS = {
    "m": "minutes", "min": "minutes", "mins": "minutes", "minuto": "minutes",
    "minutos": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hr": "hours", "hrs": "hours", "hora": "hours", "horas": "hours",
    "hour": "hours", "hours": "hours",
    "dia": "days", "dias": "days", "day": "days", "days": "days",
    "semana": "weeks", "semanas": "weeks", "week": "weeks", "weeks": "weeks",
}  # fmt: skip
_ONE = {"un", "una", "a", "an", "one"}

_WEEKDAY_WORDS = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_PART_WORDS = "manana|tarde|noche|morning|afternoon|evening|night"

# Each pattern takes its words out of the phrase; the order matters (longest phrases first).
_OFFSET = re.compile(
    r"\b(?:en|dentro de|in|within)\s+(\d+|un|una|an?|one|media|half an?)\s*"
    r"(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b"
)
_CONNECTOR = r"(?:por la|en la|de la|a la|in the|at)"
_DAY_PART = re.compile(
    r"\b(?:(pasado manana|manana|hoy|tomorrow|today)\s+(?:" + _CONNECTOR + r"\s+)?"
    r"|(?:" + _CONNECTOR + r"|esta|this|por|de)\s+)"
    r"(" + _PART_WORDS + r")\b"
)
_TONIGHT = re.compile(r"\b(tonight|a mediodia|mediodia|at noon|noon)\b")
_TIME = re.compile(
    r"(?:\b(?:a|sobre|hacia|para)\s+las?\s+|\bat\s+|@\s*)?"
    r"\b(\d{1,2})(?:[:.h](\d{2})(?![./]\d))?"
    r"(?:\s*(a\.?\s?m\.?|p\.?\s?m\.?|hs?\b|horas\b))?"
    r"(?:\s+y\s+(media|cuarto)|\s+menos\s+(cuarto))?"
)
_DAY_WORD = re.compile(r"\b(pasado manana|day after tomorrow|manana|tomorrow|hoy|today)\b")
_WEEKDAY = re.compile(
    r"\b(?:el\s+|este\s+|el proximo\s+|proximo\s+|next\s+|this\s+|on\s+)?"
    r"(" + _WEEKDAY_WORDS + r")\b(?:\s+que viene)?"
)
_DAY_OF_MONTH = re.compile(r"^(?:el\s+(?:dia\s+)?|dia\s+)(\d{1,2})$")
_FILLER = re.compile(r"\b(?:el|la|las|a|at|on|de|del|para|for|by|sobre|hacia)\b|[,;]")


@dataclass
class _Reading:
    """What the grammar took out of the phrase so far."""

    day: date | None = None
    clock: time | None = None
    part: str | None = None
    meridiem: str | None = None  # "am" | "pm" when typed
    offset: timedelta | None = None
    weekday: int | None = None  # 0 = Monday; a calendar date named too wins over it


def _plain(text: str) -> str:
    """Lower case without accents (ñ too), one space between words, no final full stop."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", bare).strip().rstrip(".!")


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    match = pattern.search(text)
    if match is None:
        return None, text
    return match, (text[: match.start()] + " " + text[match.end() :]).strip()


def _offset(match: re.Match[str]) -> timedelta:
    amount_text, unit = match.group(1), _UNITS[match.group(2)]
    if amount_text.startswith(("media", "half")):
        amount = 0.5
    elif amount_text in _ONE:
        amount = 1.0
    else:
        amount = float(amount_text)
    return timedelta(**{unit: amount})


def _relative_day(word: str, today: date) -> date:
    if word in ("pasado manana", "day after tomorrow"):
        return today + timedelta(days=2)
    if word in ("manana", "tomorrow"):
        return today + timedelta(days=1)
    return today


def _clock(match: re.Match[str], reading: _Reading) -> time | None:
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").replace(".", "").replace(" ", "")
    if suffix in ("am", "pm"):
        reading.meridiem = suffix
    if match.group(4) == "media":
        minute = 30
    elif match.group(4) == "cuarto":
        minute = 15
    elif match.group(5) == "cuarto":
        hour, minute = hour - 1, 45
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour % 24, minute)


def _is_time(match: re.Match[str]) -> bool:
    """A number is a time only when something says so: "a las", "at", ":30", "pm", "10h"."""
    said = match.group(0).strip()
    return bool(
        said[:1].isalpha() or said.startswith("@") or any(match.group(g) for g in (2, 3, 4, 5))
    )


def _read(text: str, today: date) -> tuple[_Reading, str] | None:
    """Take the known words out of `text`: the reading, and the rest (a calendar date, or
    words we do not know); None when a number cannot be a time ("a las 27")."""
    reading = _Reading()
    match, text = _take(_OFFSET, text)
    if match is not None:
        reading.offset = _offset(match)
    match, text = _take(_TONIGHT, text)
    if match is not None:
        if match.group(1) == "tonight":
            reading.part, reading.day = "night", today
        else:
            reading.clock = time(12, 0)
    match, text = _take(_DAY_PART, text)
    if match is not None:
        reading.part = _PARTS[match.group(2)]
        if match.group(1):
            reading.day = _relative_day(match.group(1), today)
        elif match.group(0).startswith(("esta", "this")):
            reading.day = today
    for candidate in _TIME.finditer(text):
        if _is_time(candidate):
            reading.clock = _clock(candidate, reading)
            if reading.clock is None:
                return None
            text = (text[: candidate.start()] + " " + text[candidate.end() :]).strip()
            break
    match, text = _take(_DAY_WORD, text)
    if match is not None:
        reading.day = _relative_day(match.group(1), today)
    match, text = _take(_WEEKDAY, text)
    if match is not None:
        reading.weekday = _WEEKDAYS[match.group(1)]
    only_fillers = not _FILLER.sub(" ", text).split()
    return reading, "" if only_fillers else text


def _calendar_day(text: str, local_now: datetime, lang: str) -> date | None:
    """A calendar date ("10 de diciembre", "december 10", "12/01", "el 10") or None."""
    day_of_month = _DAY_OF_MONTH.match(text)
    if day_of_month is not None:
        wanted = int(day_of_month.group(1))
        year, month = local_now.year, local_now.month
        for _ in range(3):  # this month, else the next that has that day
            try:
                candidate = date(year, month, wanted)
            except ValueError:
                candidate = None
            if candidate is not None and candidate >= local_now.date():
                return candidate
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None
    languages = [lang] + [other for other in ("es", "en") if other != lang]
    settings: Any = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "DATE_ORDER": "DMY",
        "REQUIRE_PARTS": ["day", "month"],
    }
    parsed = dateparser.parse(text, languages=languages, settings=settings)
    if parsed is None or parsed.year > local_now.year + MAX_YEARS_AHEAD:
        return None
    return parsed.date()


def _at(day: date, clock: time, tz_name: str) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone(tz_name)).astimezone(UTC)


def _with_part(clock: time, part: str | None, meridiem: str | None) -> tuple[time, int]:
    """The hour as meant, from a 12-hour clock, a part of the day or the afternoon rule; and
    the days to add ("a las 12 de la noche" is midnight, the start of the next day)."""
    hour = clock.hour
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    elif meridiem is None and part == "night" and hour == 12:
        return time(0, clock.minute), 1
    elif meridiem is None and part in ("afternoon", "evening", "night") and 1 <= hour < 12:
        hour += 12
    elif meridiem is None and part is None and 1 <= hour <= 7:
        hour += 12
    return time(hour, clock.minute), 0


def parse_due(typed: str, *, tz_name: str, now: datetime, lang: str) -> datetime | None:
    """The moment `typed` means, in UTC, relative to `now` in the user's zone; None when it
    is not a date. The caller refuses a moment in the past."""
    text = _plain(typed)
    if not text:
        return None
    local_now = now.astimezone(zone(tz_name))
    today = local_now.date()
    read = _read(text, today)
    if read is None:
        return None
    reading, rest = read
    if rest:
        day = _calendar_day(rest, local_now, lang)
        if day is None or reading.day is not None:
            return None  # words we do not know, or two days named
        reading.day = day  # "el viernes 11 de diciembre": the date says which Friday
    elif reading.weekday is not None and reading.day is None:
        reading.day = today + timedelta(days=(reading.weekday - today.weekday() - 1) % 7 + 1)
    if reading.offset is not None:
        if reading.offset < timedelta(days=1):
            if reading.day or reading.clock or reading.part:
                return None
            return now.astimezone(UTC).replace(second=0, microsecond=0) + reading.offset
        reading.day = (reading.day or today) + timedelta(days=reading.offset.days)
    if reading.day is None and reading.clock is None and reading.part is None:
        return None
    if reading.clock is not None:
        clock, extra_days = _with_part(reading.clock, reading.part, reading.meridiem)
    else:
        clock, extra_days = PART_TIMES.get(reading.part or "", DEFAULT_TIME), 0
    if reading.day is not None:
        return _at(reading.day + timedelta(days=extra_days), clock, tz_name)
    due = _at(today + timedelta(days=extra_days), clock, tz_name)
    if due <= now:  # a time without a day: the next time it comes
        due = _at(today + timedelta(days=extra_days + 1), clock, tz_name)
    return due


_FORMATS = {
    "es": ("EEEE d 'de' MMMM", "EEEE d 'de' MMMM 'de' y", "es_ES"),
    "en": ("EEEE d MMMM", "EEEE d MMMM y", "en_GB"),
}


def spoken_date(at: datetime, tz_name: str, lang: str, *, now: datetime) -> str:
    """A moment as a person says it: "viernes 11 de diciembre, 15:30" (the year only when
    it is not this year's)."""
    local = at.astimezone(zone(tz_name))
    this_year, other_year, locale = _FORMATS.get(lang, _FORMATS["es"])
    same_year = local.year == now.astimezone(zone(tz_name)).year
    day = format_date(local.date(), this_year if same_year else other_year, locale=locale)
    return f"{day}, {local:%H:%M}"
