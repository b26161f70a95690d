"""Graduation (diploma) dates from the school's records (CSV), so assessment material (G1.3)
gets its deletion date: two years after the diploma of every student it concerns.

CSV columns: ``user_id`` (the platform's user id) or ``email``, and ``graduation_date``
(YYYY-MM-DD). Unlike ages, a student the tool does not know is not added: they are listed as
unknown and nothing of the file is applied; bad dates are reported per line likewise.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.access.csv_problems import IMPLAUSIBLE, NOBODY, NOT_A_DATE, Problem
from lti_tool.access.models import Person
from lti_tool.audit.operations import record
from lti_tool.deletion.dates import graduation_items, recompute_graduation
from lti_tool.errors import _

EARLIEST = dt.date(1950, 1, 1)
MAX_YEARS_AHEAD = 6


@dataclass
class GraduationReport:
    """What an import did: ``updated`` people and ``rescheduled`` items, or the ``problems``
    (line: reason) and ``unknown`` students that stopped it."""

    updated: int = 0
    rescheduled: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unknown: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unknown


def set_graduation_dates(
    session: Session, changes: list[tuple[Person, dt.date]], *, actor: str
) -> list[int]:
    """Store graduation dates and reschedule the G1 items they complete (audited)."""
    changed = [(p, d) for p, d in changes if p.graduation_date != d]
    for person, day in changed:
        record(
            session,
            "people.graduation-set",
            actor=actor,
            registration_id=person.registration_id,
            subject=f"person:{person.id}",
            old=None if person.graduation_date is None else person.graduation_date.isoformat(),
            new=day.isoformat(),
        )
        person.graduation_date = day
    session.flush()
    rescheduled = []
    for item in graduation_items(session, [person.id for person, _day in changed]):
        if recompute_graduation(session, item, actor=actor):
            rescheduled.append(item.id)
    session.flush()
    return rescheduled


def import_graduations(
    session: Session, registration_id: int, text: str, *, actor: str, today: dt.date
) -> GraduationReport:
    """Apply a CSV of graduation dates to the people of ``registration_id`` (all or nothing)."""
    report = GraduationReport()
    reader = csv.DictReader(io.StringIO(text.strip()))
    columns = set(reader.fieldnames or ())
    if not columns & {"user_id", "email"} or "graduation_date" not in columns:
        report.problems.append(
            Problem(0, _("The first line must name user_id or email, and graduation_date."))
        )
        return report
    latest = dt.date(today.year + MAX_YEARS_AHEAD, 12, 31)
    changes: list[tuple[Person, dt.date]] = []
    seen: dict[int, int] = {}
    for line, row in enumerate(reader, start=2):
        key = (row.get("user_id") or "").strip()
        email = (row.get("email") or "").strip().lower()
        raw = (row.get("graduation_date") or "").strip()
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            values = {"column": "graduation_date", "value": raw}
            report.problems.append(Problem(line, NOT_A_DATE, values))
            continue
        if not EARLIEST <= day <= latest:
            values = {"column": "graduation_date", "value": raw}
            report.problems.append(Problem(line, IMPLAUSIBLE, values))
            continue
        if not key and not email:
            report.problems.append(Problem(line, _("no user_id or email")))
            continue
        where = Person.sub == key if key else Person.email == email
        person = session.scalar(
            select(Person).where(Person.registration_id == registration_id, where)
        )
        if person is None:
            report.unknown.append(Problem(line, NOBODY, {"who": key or email}))
            continue
        if person.id in seen:
            message = _("the same student as line %(other)s")
            report.problems.append(Problem(line, message, {"other": str(seen[person.id])}))
            continue
        seen[person.id] = line
        changes.append((person, day))
    if not report.ok:
        return report
    report.rescheduled = set_graduation_dates(session, changes, actor=actor)
    report.updated = len(changes)
    record(
        session,
        "people.graduations-imported",
        actor=actor,
        registration_id=registration_id,
        updated=report.updated,
        rescheduled=len(report.rescheduled),
    )
    return report
