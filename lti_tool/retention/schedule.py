"""Pure decisions of the retention sweep: what a fact change does to a date, when a failed
deletion is tried again, when a review or a school-year end is announced. No clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from lti_tool.retention.dates import graduation_plus

NOTICE_DAYS = 14
"""Teachers see what goes at the school-year end (G2.5) and reviews due (G4.2) this many days
ahead."""

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


def next_attempt(now: datetime, attempts: int) -> datetime:
    """When a deletion that failed ``attempts`` times is tried again: after 1 min, 2, 4 ...,
    at most 6 h."""
    wait: timedelta = FIRST_RETRY * (2 ** max(0, min(attempts - 1, 20)))
    later: datetime = now + min(wait, LONGEST_RETRY)
    return later


def graduation_delete_on(graduations: Iterable[date | None], years: int) -> date | None:
    """G1.3: assessment material is kept ``years`` after the diploma of every student it
    concerns; None while any graduation date is unknown (or nobody is known)."""
    known = list(graduations)
    if not known or any(day is None for day in known):
        return None
    return graduation_plus(max(d for d in known if d is not None), years)


def review_deadline(review_on: date, grace_days: int) -> date:
    """G4.2: a review left unanswered this long after its date deletes the item."""
    return review_on + timedelta(days=grace_days)


def in_notice_window(day: date | None, today: date, days: int = NOTICE_DAYS) -> bool:
    """Whether ``day`` is close enough to announce (or already passed)."""
    return day is not None and day <= today + timedelta(days=days)


def capped(new: date, caps: Iterable[date]) -> date:
    """A recomputed date never passes an earlier cap (e.g. a withdrawal plan's date)."""
    return min([new, *caps])
