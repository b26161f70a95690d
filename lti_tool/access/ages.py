"""Ages of students from the school's records (CSV): a birth date or an "under 16" flag per
student, so the tool knows who answers consent requests (UAVG art. 5). LTI carries no age.

CSV columns: ``user_id`` (the platform's user id) or ``email``, then ``birth_date``
(YYYY-MM-DD) and/or ``under_16`` (yes/no). A user id the tool has not met yet is added (the
school's records know students before they first launch); an unknown e-mail address and bad
values are reported per line, and nothing of a file with any error is applied.
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
from lti_tool.db import get_or_create
from lti_tool.errors import _

_YES = {"yes", "ja", "true", "1", "y", "j"}
_NO = {"no", "nee", "false", "0", "n"}


@dataclass
class AgeReport:
    """What an import did: ``updated`` people, or the ``problems`` (line: reason) that
    stopped it."""

    updated: int = 0
    problems: list[Problem] = field(default_factory=list)


def _flag(raw: str) -> bool | None:
    value = raw.strip().lower()
    if not value:
        return None
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(raw)


def import_ages(
    session: Session, registration_id: int, text: str, *, actor: str, today: dt.date
) -> AgeReport:
    """Apply a CSV of ages to the people of ``registration_id`` (all or nothing), audited."""
    report = AgeReport()
    reader = csv.DictReader(io.StringIO(text.strip()))
    columns = set(reader.fieldnames or ())
    if not columns & {"user_id", "email"} or not columns & {"birth_date", "under_16"}:
        report.problems.append(
            Problem(0, _("The first line must name user_id or email, and birth_date or under_16."))
        )
        return report
    changes: list[tuple[Person, dt.date | None, bool | None]] = []
    for line, row in enumerate(reader, start=2):
        key = (row.get("user_id") or "").strip()
        email = (row.get("email") or "").strip().lower()
        birth = (row.get("birth_date") or "").strip()
        try:
            birth_date = dt.date.fromisoformat(birth) if birth else None
        except ValueError:
            report.problems.append(
                Problem(line, NOT_A_DATE, {"column": "birth_date", "value": birth})
            )
            continue
        if birth_date is not None and not (dt.date(1900, 1, 1) <= birth_date <= today):
            report.problems.append(
                Problem(line, IMPLAUSIBLE, {"column": "birth_date", "value": birth})
            )
            continue
        try:
            flag = _flag(row.get("under_16") or "")
        except ValueError as exc:
            message = _("under_16 must be yes or no, not %(value)s")
            report.problems.append(Problem(line, message, {"value": str(exc)}))
            continue
        person: Person | None
        if key:
            person = get_or_create(session, Person, {}, registration_id=registration_id, sub=key)
        else:
            person = (
                session.scalar(
                    select(Person).where(
                        Person.registration_id == registration_id, Person.email == email
                    )
                )
                if email
                else None
            )
        if person is None:
            report.problems.append(Problem(line, NOBODY, {"who": email or "(empty)"}))
            continue
        changes.append((person, birth_date, flag))
    if report.problems:
        return report
    for person, birth_date, flag in changes:
        person.birth_date = birth_date if birth_date is not None else person.birth_date
        person.under_16 = flag if flag is not None else person.under_16
    session.flush()
    report.updated = len(changes)
    record(
        session,
        "people.ages-imported",
        actor=actor,
        registration_id=registration_id,
        updated=report.updated,
    )
    return report
