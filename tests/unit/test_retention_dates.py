from datetime import date

import pytest

from lti_tool.retention.dates import (
    graduation_plus,
    school_year_end_on_or_after,
    yearly_review,
    years_after,
)


@pytest.mark.parametrize(
    ("today", "month_day", "expected"),
    [
        (date(2025, 3, 10), (7, 31), date(2025, 7, 31)),  # before the end: this year
        (date(2025, 7, 31), (7, 31), date(2025, 7, 31)),  # on the end: that same day
        (date(2025, 8, 1), (7, 31), date(2026, 7, 31)),  # the day after: next year
        (date(2025, 1, 1), (7, 31), date(2025, 7, 31)),
        (date(2025, 12, 31), (7, 31), date(2026, 7, 31)),
        (date(2025, 8, 15), (8, 31), date(2025, 8, 31)),  # higher education: 31 August
        (date(2025, 8, 31), (8, 31), date(2025, 8, 31)),
        (date(2025, 9, 1), (8, 31), date(2026, 8, 31)),
        (date(2025, 3, 1), (2, 29), date(2026, 2, 28)),  # 29 Feb in a common year
        (date(2027, 3, 1), (2, 29), date(2028, 2, 29)),
    ],
)
def test_school_year_end_on_or_after(today, month_day, expected):
    assert school_year_end_on_or_after(today, month_day) == expected


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2025, 3, 10), 2, date(2027, 3, 10)),
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2023, 2, 28), 1, date(2024, 2, 28)),
        (date(2025, 12, 31), 0, date(2025, 12, 31)),
    ],
)
def test_years_after(day, years, expected):
    assert years_after(day, years) == expected


def test_graduation_plus_defaults_to_two_years():
    assert graduation_plus(date(2023, 6, 30)) == date(2025, 6, 30)
    assert graduation_plus(date(2024, 2, 29)) == date(2026, 2, 28)
    assert graduation_plus(date(2024, 2, 29), years=4) == date(2028, 2, 29)
    assert graduation_plus(date(2023, 6, 30), years=3) == date(2026, 6, 30)


def test_yearly_review_is_one_year_on():
    assert yearly_review(date(2025, 3, 10)) == date(2026, 3, 10)
    assert yearly_review(date(2024, 2, 29)) == date(2025, 2, 28)
