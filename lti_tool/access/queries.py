"""Read models of the roster for pages (one query per concern, no N+1)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.access.models import Course, CourseGroup, GroupMember, Membership, Person


@dataclass(frozen=True)
class RosterMember:
    sub: str
    name: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Roster:
    synced_at: dt.datetime | None
    members: tuple[RosterMember, ...]


def find_course(session: Session, registration_id: int, context_id: str | None) -> Course | None:
    if context_id is None:
        return None
    return session.scalar(
        select(Course).where(
            Course.registration_id == registration_id, Course.context_id == context_id
        )
    )


def roster(session: Session, course: Course | None) -> Roster:
    """Active members of ``course`` with their sections/groups, sorted by name."""
    if course is None:
        return Roster(None, ())
    rows = session.execute(
        select(Person.id, Person.sub, Person.name, Membership.roles)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.course_id == course.id, Membership.active)
    ).all()
    groups: dict[int, list[str]] = defaultdict(list)
    for person_id, name in session.execute(
        select(GroupMember.person_id, CourseGroup.name)
        .join(CourseGroup, CourseGroup.id == GroupMember.group_id)
        .where(CourseGroup.course_id == course.id)
    ):
        groups[person_id].append(name)
    members = tuple(
        sorted(
            (
                RosterMember(sub, name or sub, tuple(roles or ()), tuple(sorted(groups[pid])))
                for pid, sub, name, roles in rows
            ),
            key=lambda m: m.name.lower(),
        )
    )
    return Roster(course.roster_synced_at, members)
