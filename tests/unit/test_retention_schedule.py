"""Pure retention schedule decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from lti_tool.retention.schedule import (
    capped,
    graduation_delete_on,
    in_notice_window,
    next_attempt,
    review_deadline,
)

NOW = datetime(2027, 8, 1, 12, tzinfo=UTC)


def test_back_off_doubles_and_is_capped() -> None:
    waits = [next_attempt(NOW, n) - NOW for n in (1, 2, 3, 4)]
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert next_attempt(NOW, 50) - NOW == timedelta(hours=6)


def test_graduation_date_needs_every_student() -> None:
    assert graduation_delete_on([date(2028, 6, 30), None], 2) is None
    assert graduation_delete_on([], 2) is None
    assert graduation_delete_on([date(2028, 6, 30), date(2029, 7, 1)], 2) == date(2031, 7, 1)
    assert graduation_delete_on([date(2028, 2, 29)], 2) == date(2030, 2, 28)


def test_review_deadline_and_notice_window() -> None:
    assert review_deadline(date(2028, 3, 15), 30) == date(2028, 4, 14)
    assert in_notice_window(date(2027, 7, 31), date(2027, 7, 17))
    assert not in_notice_window(date(2027, 7, 31), date(2027, 7, 16))
    assert not in_notice_window(None, date(2027, 7, 16))


def test_cap_never_extends() -> None:
    assert capped(date(2028, 7, 31), [date(2027, 9, 1)]) == date(2027, 9, 1)
    assert capped(date(2028, 7, 31), []) == date(2028, 7, 31)
