"""Maintenance windows: parsing, open/closed, next opening, across midnight and DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dualpath.errors import InputError, TargetRefused
from dualpath.windows import check_window, parse_window

BERLIN = ZoneInfo("Europe/Berlin")


def test_saturday_window_in_berlin_is_open_only_inside() -> None:
    window = parse_window("Sat 02:00-05:00 Europe/Berlin")
    assert window.is_open(datetime(2026, 3, 7, 2, 0, tzinfo=BERLIN))
    assert window.is_open(datetime(2026, 3, 7, 4, 59, tzinfo=BERLIN))
    assert not window.is_open(datetime(2026, 3, 7, 5, 0, tzinfo=BERLIN))
    assert not window.is_open(datetime(2026, 3, 6, 3, 0, tzinfo=BERLIN))  # a Friday
    # 01:30 UTC on a winter Saturday is 02:30 in Berlin
    assert window.is_open(datetime(2026, 3, 7, 1, 30, tzinfo=UTC))


def test_next_opening_is_the_coming_saturday_in_the_window_zone() -> None:
    window = parse_window("Sat 02:00-05:00 Europe/Berlin")
    opens = window.next_opening(datetime(2026, 3, 4, 12, 0, tzinfo=UTC))  # a Wednesday
    assert opens == datetime(2026, 3, 7, 2, 0, tzinfo=BERLIN)
    assert window.next_opening(datetime(2026, 3, 7, 3, 0, tzinfo=BERLIN)) == datetime(2026, 3, 14, 2, 0, tzinfo=BERLIN)


def test_window_across_midnight_belongs_to_the_day_it_opens() -> None:
    window = parse_window("Fri 22:00-02:00 UTC")
    assert window.is_open(datetime(2026, 3, 6, 23, 0, tzinfo=UTC))  # Friday night
    assert window.is_open(datetime(2026, 3, 7, 1, 59, tzinfo=UTC))  # Saturday early
    assert not window.is_open(datetime(2026, 3, 7, 22, 30, tzinfo=UTC))  # Saturday night
    assert window.closes_at(datetime(2026, 3, 6, 23, 0, tzinfo=UTC)) == datetime(2026, 3, 7, 2, 0, tzinfo=UTC)


def test_window_stays_at_local_wall_clock_across_daylight_saving() -> None:
    window = parse_window("Sun 04:00-05:00 Europe/Berlin")
    # clocks go forward on 2026-03-29: 04:00 Berlin is 02:00 UTC after, 03:00 UTC before
    assert window.is_open(datetime(2026, 3, 29, 2, 30, tzinfo=UTC))
    assert window.is_open(datetime(2026, 3, 22, 3, 30, tzinfo=UTC))


@pytest.mark.parametrize("text,day,expected", [
    ("Mon-Fri 09:00-17:00", datetime(2026, 3, 4, 10, 0, tzinfo=UTC), True),
    ("Mon-Fri 09:00-17:00", datetime(2026, 3, 7, 10, 0, tzinfo=UTC), False),
    ("Sat,Sun 00:00-24:00", datetime(2026, 3, 8, 23, 0, tzinfo=UTC), True),
    ("daily 01:00-03:00 America/New_York", datetime(2026, 3, 4, 7, 0, tzinfo=UTC), True),
    ("Saturday 02:00-05:00", datetime(2026, 3, 7, 3, 0), True),  # naive means UTC
])
def test_day_forms(text: str, day: datetime, expected: bool) -> None:
    assert parse_window(text).is_open(day) is expected


@pytest.mark.parametrize("text", ["", "Sat", "Sat 2-5", "Funday 02:00-05:00", "Sat 25:00-26:00",
                                  "Sat 02:00-05:00 Mars/Olympus"])
def test_bad_windows_are_input_errors_with_a_hint(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_window(text)
    assert caught.value.hint


def test_check_window_refuses_outside_and_names_the_next_opening() -> None:
    check_window(None)
    check_window("Sat 02:00-05:00 Europe/Berlin", datetime(2026, 3, 7, 3, 0, tzinfo=BERLIN))
    with pytest.raises(TargetRefused) as caught:
        check_window("Sat 02:00-05:00 Europe/Berlin", datetime(2026, 3, 4, 12, 0, tzinfo=UTC))
    assert "2026-03-07T02:00:00+01:00" in caught.value.message
    assert caught.value.exit_code == 3


def test_admit_lets_a_run_started_a_moment_early_wait_for_the_opening() -> None:
    from datetime import timedelta

    from dualpath.windows import admit

    opens = datetime(2026, 3, 7, 2, 0, tzinfo=BERLIN)
    early = admit("Sat 02:00-05:00 Europe/Berlin", opens - timedelta(seconds=0.43), grace_s=60)
    assert (early.verdict, early.opens) == ("wait", opens)
    assert abs(early.wait_s - 0.43) < 1e-6  # computed from the clock: the wait ends at the opening
    too_early = admit("Sat 02:00-05:00 Europe/Berlin", opens - timedelta(seconds=61), grace_s=60)
    assert too_early.verdict == "closed" and too_early.opens == opens
    assert admit("Sat 02:00-05:00 Europe/Berlin", opens - timedelta(seconds=0.43)).verdict == "closed"  # no grace
    inside = admit("Sat 02:00-05:00 Europe/Berlin", opens, grace_s=60)
    assert (inside.verdict, inside.closes) == ("open", datetime(2026, 3, 7, 5, 0, tzinfo=BERLIN))
    assert admit(None, opens).verdict == "open"
