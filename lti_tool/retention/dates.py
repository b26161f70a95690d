"""Pure date arithmetic for retention periods: no clock, no I/O; ``today`` is always passed in.

A 29 February that does not exist in the target year becomes 28 February: deleting a day early
never keeps data longer than allowed.
"""

from __future__ import annotations

from calendar import isleap
from datetime import date


def _calendar_day(year: int, month: int, day: int) -> date:
    if (month, day) == (2, 29) and not isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def years_after(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February in a common year)."""
    return _calendar_day(day.year + years, day.month, day.day)


def graduation_plus(graduation: date, years: int = 2) -> date:
    """End of the assessment-material retention: ``years`` after the graduation (diploma) date."""
    return years_after(graduation, years)


def yearly_review(today: date) -> date:
    """The next review date of material kept while it is judged useful: one year from ``today``."""
    return years_after(today, 1)


def school_year_end_on_or_after(today: date, month_day: tuple[int, int]) -> date:
    """The end of the current school year: the first ``(month, day)`` on or after ``today``."""
    month, day = month_day
    end = _calendar_day(today.year, month, day)
    return end if end >= today else _calendar_day(today.year + 1, month, day)
