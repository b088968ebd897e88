"""Working hours (G3): weekly grids, night shifts across midnight, rotations every N days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from models.core.errors import ValidationFailed
from models.people import profile
from models.people.schedule import day_night_rotation, is_working, is_working_at, validate_schedule

MADRID = ZoneInfo("Europe/Madrid")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026 in Madrid (UTC+1): the 23rd is a Monday."""
    return datetime(2026, 11, day, hour, minute, tzinfo=MADRID)


def test_weekly_grid_in_the_users_time_zone():
    office = validate_schedule(
        {"kind": "weekly", "days": {str(d): [["09:00", "17:00"]] for d in range(5)}}
    )
    assert is_working_at(office, MADRID, at(23, 9))
    assert is_working_at(office, MADRID, at(23, 16, 59))
    assert not is_working_at(office, MADRID, at(23, 17))  # the end is exclusive
    assert not is_working_at(office, MADRID, at(28, 10))  # Saturday
    # 08:30 UTC is 09:30 in Madrid
    assert is_working_at(office, MADRID, datetime(2026, 11, 23, 8, 30, tzinfo=UTC))


def test_a_night_shift_crosses_midnight_into_the_next_day():
    nights = validate_schedule({"kind": "weekly", "days": {"4": [["22:00", "06:00"]]}})  # Friday
    assert is_working_at(nights, MADRID, at(27, 23))
    assert is_working_at(nights, MADRID, at(28, 5, 59))  # Saturday morning, Friday's shift
    assert not is_working_at(nights, MADRID, at(28, 6))
    assert not is_working_at(nights, MADRID, at(27, 21))


def test_day_night_48_repeats_every_four_days():
    rotation = day_night_rotation(date(2026, 11, 23))  # day shift on Monday the 23rd
    assert is_working_at(rotation, MADRID, at(23, 8))
    assert not is_working_at(rotation, MADRID, at(23, 20))
    assert not is_working_at(rotation, MADRID, at(24, 12))
    assert is_working_at(rotation, MADRID, at(24, 20))  # the night shift
    assert is_working_at(rotation, MADRID, at(25, 7, 59))  # ...until Wednesday 08:00
    assert not is_working_at(rotation, MADRID, at(25, 8))
    assert not is_working_at(rotation, MADRID, at(26, 12))  # 48 hours off
    assert is_working_at(rotation, MADRID, at(27, 8))  # and again: day shift on Friday
    assert is_working_at(rotation, MADRID, at(28, 23))  # night shift on Saturday
    # before the first day of the cycle the pattern runs backwards
    assert is_working_at(rotation, MADRID, at(19, 10))


def test_an_empty_schedule_means_always_working():
    assert is_working_at({}, MADRID, at(28, 3))


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        ({"kind": "weekly", "days": {"7": [["09:00", "17:00"]]}}, "days"),
        ({"kind": "weekly", "days": {"0": [["9am", "17:00"]]}}, "day 0"),
        ({"kind": "weekly", "days": {"0": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "day 0"),
        ({"kind": "weekly", "days": {"0": [["24:00", "02:00"]]}}, "day 0"),
        ({"kind": "rotation", "start": "yesterday", "pattern": [[["08:00", "20:00"]]]}, "start"),
        ({"kind": "rotation", "start": "2026-11-23", "pattern": [[], []]}, "pattern"),
        ({"kind": "rotation", "start": "2026-11-23", "pattern": [[]] * 63}, "pattern"),
        ({"kind": "monthly"}, "kind"),
    ],
)
def test_invalid_schedules_name_the_problem(schedule, field):
    with pytest.raises(ValidationFailed) as err:
        validate_schedule(schedule)
    assert field in err.value.fields


async def test_working_hours_are_saved_on_the_user(world):
    rotation = day_night_rotation(date(2026, 11, 23))
    await profile.set_working_hours(
        world.luis, time_zone="Europe/Madrid", first_weekday=0, schedule=rotation
    )
    await world.luis.refresh_from_db()
    assert world.luis.work_schedule["kind"] == "rotation"
    assert is_working(world.luis, at(24, 23))
    assert not is_working(world.luis, at(26, 12))
    with pytest.raises(ValidationFailed) as err:
        await profile.set_working_hours(
            world.luis, time_zone="Mars/Olympus", first_weekday=9, schedule={"kind": "x"}
        )
    assert {"time_zone", "first_weekday", "kind"} <= set(err.value.fields)
