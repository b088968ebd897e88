"""Due times typed in a chat, read in the user's language and zone (bot/dates.py).

The clock stands at Wednesday 25 November 2026, 10:00 UTC: 11:00 in Madrid (CET) and 04:00
in Mexico City (CST). Every expected value is the local wall time, worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.dates import parse_due, spoken_date

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
MADRID = "Europe/Madrid"
MEXICO = "America/Mexico_City"

PHRASES = [
    # (typed, language, zone, expected local time)
    ("mañana a las 10", "es", MADRID, "2026-11-26 10:00"),
    ("10 de diciembre a las 12", "es", MADRID, "2026-12-10 12:00"),
    ("a las 10", "es", MADRID, "2026-11-26 10:00"),  # 10:00 has passed today
    ("a las 12", "es", MADRID, "2026-11-25 12:00"),
    ("tomorrow at 10", "en", MADRID, "2026-11-26 10:00"),
    ("el viernes a las 15:30", "es", MADRID, "2026-11-27 15:30"),
    ("pasado mañana 12:00", "es", MADRID, "2026-11-27 12:00"),
    ("mañana por la mañana", "es", MADRID, "2026-11-26 09:00"),
    ("mañana por la tarde", "es", MADRID, "2026-11-26 16:00"),
    ("mañana por la noche", "es", MADRID, "2026-11-26 20:00"),
    ("esta tarde", "es", MADRID, "2026-11-25 16:00"),
    ("esta noche", "es", MADRID, "2026-11-25 20:00"),
    ("tonight", "en", MADRID, "2026-11-25 20:00"),
    ("this evening", "en", MADRID, "2026-11-25 19:00"),
    ("a las 5 de la tarde", "es", MADRID, "2026-11-25 17:00"),
    ("a las 5", "es", MADRID, "2026-11-25 17:00"),  # 1 to 7 without am/pm: the afternoon
    ("a las 10 y media", "es", MADRID, "2026-11-26 10:30"),
    ("el lunes", "es", MADRID, "2026-11-30 09:00"),
    ("next monday at 9am", "en", MADRID, "2026-11-30 09:00"),
    ("el miércoles", "es", MADRID, "2026-12-02 09:00"),  # today is Wednesday: next week's
    ("friday 3pm", "en", MADRID, "2026-11-27 15:00"),
    ("12/01 10:30", "es", MADRID, "2027-01-12 10:30"),  # day first
    ("2 de enero", "es", MADRID, "2027-01-02 09:00"),
    ("december 10 at 4pm", "en", MADRID, "2026-12-10 16:00"),
    ("el 3", "es", MADRID, "2026-12-03 09:00"),
    ("en 2 horas", "es", MADRID, "2026-11-25 13:00"),
    ("in 30 minutes", "en", MADRID, "2026-11-25 11:30"),
    ("hoy a las 18h", "es", MADRID, "2026-11-25 18:00"),
    ("tomorrow morning", "en", MADRID, "2026-11-26 09:00"),
    ("at noon", "en", MADRID, "2026-11-25 12:00"),
    ("el sábado por la mañana", "es", MADRID, "2026-11-28 09:00"),
    ("el viernes 11 de diciembre a las 15:30", "es", MADRID, "2026-12-11 15:30"),
    ("MAÑANA A LAS 10.", "es", MADRID, "2026-11-26 10:00"),
    ("manana a las 10", "es", MADRID, "2026-11-26 10:00"),  # typed without the ñ
    ("in 3 days", "en", MADRID, "2026-11-28 09:00"),
    ("1 de julio a las 10", "es", MADRID, "2027-07-01 10:00"),  # summer time by then
    ("a las 10", "es", MEXICO, "2026-11-25 10:00"),  # 04:00 there: still to come today
    ("mañana a las 10", "es", MEXICO, "2026-11-26 10:00"),
    ("tonight", "en", MEXICO, "2026-11-25 20:00"),
    ("en 2 horas", "es", MEXICO, "2026-11-25 06:00"),
    ("el viernes a las 15:30", "es", MEXICO, "2026-11-27 15:30"),
    ("10 de diciembre a las 12", "es", MEXICO, "2026-12-10 12:00"),
    ("esta mañana", "es", MEXICO, "2026-11-25 09:00"),
    ("3pm", "en", MEXICO, "2026-11-25 15:00"),
    ("a las 4 de la mañana", "es", MEXICO, "2026-11-26 04:00"),  # 04:00 is now: tomorrow's
    ("mañana", "es", MEXICO, "2026-11-26 09:00"),
    ("tomorrow evening", "en", MEXICO, "2026-11-26 19:00"),
]


@pytest.mark.parametrize(("typed", "lang", "tz", "expected"), PHRASES)
def test_phrase_is_read_in_the_users_language_and_zone(typed, lang, tz, expected):
    due = parse_due(typed, tz_name=tz, now=NOW, lang=lang)
    assert due is not None, typed
    assert due.tzinfo is not None
    assert due.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") == expected


def test_the_moment_is_utc_for_storage():
    madrid = parse_due("mañana a las 10", tz_name=MADRID, now=NOW, lang="es")
    mexico = parse_due("mañana a las 10", tz_name=MEXICO, now=NOW, lang="es")
    summer = parse_due("1 de julio a las 10", tz_name=MADRID, now=NOW, lang="es")
    assert madrid == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert mexico == datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    assert summer == datetime(2027, 7, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "typed",
    [
        "whenever you like",
        "hola",
        "a las 27",
        "10",  # a bare number is not a date: "el 10" is
        "",
        "mañana 10 de diciembre",  # two different days
        "10 de diciembre de 2112",  # a misreading, not a plan
    ],
)
def test_what_is_not_a_date_is_refused(typed):
    assert parse_due(typed, tz_name=MADRID, now=NOW, lang="es") is None


def test_a_date_today_that_has_passed_is_returned_for_the_caller_to_refuse():
    due = parse_due("hoy a las 9", tz_name=MADRID, now=NOW, lang="es")
    assert due == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_the_date_is_said_back_in_words():
    at = datetime(2026, 12, 11, 14, 30, tzinfo=UTC)
    assert spoken_date(at, MADRID, "es", now=NOW) == "viernes 11 de diciembre, 15:30"
    assert spoken_date(at, MADRID, "en", now=NOW) == "Friday 11 December, 15:30"
    assert spoken_date(at, MEXICO, "es", now=NOW) == "viernes 11 de diciembre, 08:30"
    next_year = datetime(2027, 1, 2, 8, 0, tzinfo=UTC)
    assert spoken_date(next_year, MADRID, "es", now=NOW) == "sábado 2 de enero de 2027, 09:00"
    assert spoken_date(next_year, MADRID, "en", now=NOW) == "Saturday 2 January 2027, 09:00"
