"""Who answers for a student: the student, or a parent or guardian while the student is under
16 (UAVG art. 5). Pure: ``today`` is passed in."""

from __future__ import annotations

from datetime import date

AGE_OF_CONSENT = 16


def age_on(birth_date: date, today: date) -> int:
    """Completed years on ``today`` (someone born on 29 February has a birthday on 1 March)."""
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def needs_guardian(
    birth_date: date | None, under_16: bool | None, course_default: bool, today: date
) -> bool:
    """Whether a parent or guardian consents for this student: the birth date decides when
    the school gave one; else the school's "under 16" flag; else the course's default."""
    if birth_date is not None:
        return age_on(birth_date, today) < AGE_OF_CONSENT
    if under_16 is not None:
        return under_16
    return course_default
