"""When a scheduled stream may be live: pure functions, no clock (``now`` is passed in).

A teacher may give a stream a window (a date with a start and an end time in the
institution's time zone). Publishing is accepted from ``EARLY`` before the start (to test
sound and picture) until the end; a stream still live at the end is cut off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from lti_tool.errors import BadRequest, _

EARLY = dt.timedelta(minutes=15)
LONGEST = dt.timedelta(hours=12)


class BadWindow(BadRequest):
    reason = _("The schedule is not valid.")


@dataclass(frozen=True)
class Window:
    """A scheduled window in UTC."""

    start: dt.datetime
    end: dt.datetime

    def allows(self, now: dt.datetime) -> bool:
        """Whether a publish may start or go on at ``now``."""
        return self.start - EARLY <= now < self.end


def parse(day: str, start: str, end: str, zone: str, now: dt.datetime) -> Window:
    """The window of ``day`` (YYYY-MM-DD) from ``start`` to ``end`` (HH:MM) in ``zone``.

    Raises :class:`BadWindow` with a reason for malformed values, an end not after the
    start, a window longer than ``LONGEST`` or one that has already ended at ``now``."""
    try:
        date = dt.date.fromisoformat(day.strip())
        begins = dt.time.fromisoformat(start.strip())
        finishes = dt.time.fromisoformat(end.strip())
    except ValueError:
        raise BadWindow(
            _("Give a date and a start and end time, like 2027-03-15, 09:00, 10:30.")
        ) from None
    tz = ZoneInfo(zone)
    window = Window(
        dt.datetime.combine(date, begins, tz).astimezone(dt.UTC),
        dt.datetime.combine(date, finishes, tz).astimezone(dt.UTC),
    )
    if window.end <= window.start:
        raise BadWindow(_("The end time must be after the start time."))
    if window.end - window.start > LONGEST:
        raise BadWindow(_("A scheduled stream can last at most 12 hours."))
    if window.end <= now:
        raise BadWindow(_("This time has already passed."))
    return window


def local(moment: dt.datetime, zone: str) -> dt.datetime:
    """``moment`` in the institution's time zone (for display)."""
    return moment.astimezone(ZoneInfo(zone))
