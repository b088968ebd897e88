"""A user's days as UTC ranges (models/reporting/periods.py): the one conversion behind every
date filter. Expected bounds are written out from the zones' published rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from models.core.errors import ValidationFailed
from models.reporting.periods import day_filter, local_days


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "day", "start", "end"),
    [
        # Madrid in winter (UTC+1) and summer (UTC+2).
        ("Europe/Madrid", date(2026, 11, 25), utc(2026, 11, 24, 23), utc(2026, 11, 25, 23)),
        ("Europe/Madrid", date(2026, 7, 1), utc(2026, 6, 30, 22), utc(2026, 7, 1, 22)),
        # The spring change (02:00 -> 03:00): a day of 23 hours; the autumn one: 25 hours.
        ("Europe/Madrid", date(2026, 3, 29), utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)),
        ("Europe/Madrid", date(2026, 10, 25), utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)),
        # Mexico City: UTC-6 all year since 2022; its last spring change, in 2021.
        ("America/Mexico_City", date(2026, 11, 25), utc(2026, 11, 25, 6), utc(2026, 11, 26, 6)),
        ("America/Mexico_City", date(2021, 4, 4), utc(2021, 4, 4, 6), utc(2021, 4, 5, 5)),
        # Santiago skips midnight (00:00 -> 01:00): the day starts at the jump.
        ("America/Santiago", date(2026, 9, 6), utc(2026, 9, 6, 4), utc(2026, 9, 7, 3)),
    ],
)
def test_a_day_runs_from_the_users_midnight_to_the_next(world, zone, day, start, end):
    world.luis.time_zone = zone
    days = local_days(world.luis, day, day)
    assert (days.start, days.end) == (start, end)


def test_open_sides_and_bad_dates(world):
    world.luis.time_zone = "Europe/Madrid"
    days = day_filter(world.luis, "2026-11-25", "")
    assert (days.start, days.end) == (utc(2026, 11, 24, 23), None)
    assert day_filter(world.luis, None, None).start is None
    # The calendar's links write a date with its midnight: the whole day.
    days = day_filter(world.luis, "2026-11-25T00:00", "2026-11-25T00:00")
    assert (days.start, days.end) == (utc(2026, 11, 24, 23), utc(2026, 11, 25, 23))
    with pytest.raises(ValidationFailed) as err:
        day_filter(world.luis, "25/11/2026", None)
    assert err.value.fields["from"].in_language("es") == "se esperaba una fecha como 2026-11-25"
    with pytest.raises(ValidationFailed):
        day_filter(world.luis, None, "9999-12-31")  # no next day to end it: refused, not a 500
    with pytest.raises(ValidationFailed) as err:
        day_filter(world.luis, "2026-11-25", "2026-11-24")
    assert "to" in err.value.fields
