"""The scheduled window of a stream: parsed in the institution's time zone, checked in UTC."""

from __future__ import annotations

import datetime as dt

import pytest

from lti_tool.streams.window import EARLY, BadWindow, Window, parse

NOW = dt.datetime(2027, 3, 15, 7, 0, tzinfo=dt.UTC)  # 08:00 in Amsterdam (CET)


def test_local_times_become_utc_across_summer_time() -> None:
    winter = parse("2027-03-15", "09:00", "10:30", "Europe/Amsterdam", NOW)
    assert (winter.start.hour, winter.end.hour, winter.end.minute) == (8, 9, 30)
    summer = parse("2027-04-15", "09:00", "10:30", "Europe/Amsterdam", NOW)
    assert (summer.start.hour, summer.end.hour) == (7, 8)


def test_publishing_is_allowed_from_a_little_before_the_start_until_the_end() -> None:
    window = Window(NOW, NOW + dt.timedelta(hours=1))
    assert not window.allows(NOW - EARLY - dt.timedelta(seconds=1))
    assert window.allows(NOW - EARLY)
    assert window.allows(NOW + dt.timedelta(minutes=59))
    assert not window.allows(NOW + dt.timedelta(hours=1))


@pytest.mark.parametrize(
    ("day", "start", "end", "reason"),
    [
        ("15-03-2027", "09:00", "10:00", "like 2027-03-15"),
        ("2027-03-15", "9 o'clock", "10:00", "like 2027-03-15"),
        ("2027-03-15", "", "10:00", "like 2027-03-15"),
        ("2027-02-30", "09:00", "10:00", "like 2027-03-15"),
        ("2027-03-15", "10:00", "09:00", "after the start"),
        ("2027-03-15", "10:00", "10:00", "after the start"),
        ("2027-03-14", "09:00", "10:00", "already passed"),
        ("2027-03-15", "07:00", "07:59", "already passed"),
    ],
)
def test_bad_windows_are_refused_with_a_reason(day: str, start: str, end: str, reason: str) -> None:
    with pytest.raises(BadWindow) as caught:
        parse(day, start, end, "Europe/Amsterdam", NOW)
    assert reason in str(caught.value.reason)


def test_a_window_lasts_at_most_twelve_hours() -> None:
    assert parse("2027-03-15", "08:00", "20:00", "Europe/Amsterdam", NOW)
    with pytest.raises(BadWindow):
        parse("2027-03-15", "08:00", "20:01", "Europe/Amsterdam", NOW)
