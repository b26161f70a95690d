"""What a consent withdrawal does to one item (G3.2), as dates: pure, ``today`` passed in.

Proportional deletion: material already in use for the running school year's cohort (published
to the class or the year cohort) may stay until the end of that school year and is flagged to
be replaced for the next one; anything else is removed from view at once and deleted within
``grace_days``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from lti_tool.retention.dates import school_year_end_on_or_after


class PlanAction(enum.StrEnum):
    """What a withdrawal does to an item."""

    KEEP_UNTIL_YEAR_END = "keep-until-year-end"
    REMOVE_NOW = "remove-now"


@dataclass(frozen=True)
class Plan:
    """A deletion plan: ``delete_on`` never later than the item's own date."""

    action: PlanAction
    removed_from_view_on: date | None
    delete_on: date
    replace_for_next_year: bool


def withdrawal_plan(
    *,
    in_use_for_cohort: bool,
    today: date,
    school_year_end: tuple[int, int],
    grace_days: int,
    item_delete_on: date | None,
) -> Plan:
    """The plan for an item whose consent was withdrawn on ``today``.

    ``in_use_for_cohort``: the item is published and its audience is no wider than the year
    cohort. ``item_delete_on`` caps the plan (a plan never keeps an item longer).
    """
    if in_use_for_cohort:
        end = school_year_end_on_or_after(today, school_year_end)
        due = min(end, item_delete_on) if item_delete_on else end
        return Plan(PlanAction.KEEP_UNTIL_YEAR_END, None, due, replace_for_next_year=True)
    due = today + timedelta(days=grace_days)
    due = min(due, item_delete_on) if item_delete_on else due
    return Plan(PlanAction.REMOVE_NOW, today, due, replace_for_next_year=False)
