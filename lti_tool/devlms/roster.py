"""Course memberships: seeded once, then changed by tests (removals, section moves)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lti_tool.devlms import claims as c
from lti_tool.devlms.seed import COURSES, ENROLLMENTS, USERS, Course, User
from lti_tool.devlms.store import JsonStore

_DOC = "roster"
ACTIVE = "Active"
INACTIVE = "Inactive"


@dataclass(frozen=True)
class Membership:
    """A user in a course, as the platform knows it now."""

    user: User
    course: Course
    roles: tuple[str, ...]
    section_ids: tuple[str, ...]
    group_ids: tuple[str, ...]
    mentees: tuple[str, ...]
    status: str

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def is_instructor(self) -> bool:
        return c.ROLE_INSTRUCTOR in self.roles


def _seed_document() -> dict[str, dict[str, dict[str, Any]]]:
    doc: dict[str, dict[str, dict[str, Any]]] = {cid: {} for cid in COURSES}
    for e in ENROLLMENTS:
        doc[e.course_id][e.user_id] = {
            "roles": list(e.roles),
            "section_ids": list(e.section_ids),
            "group_ids": list(e.group_ids),
            "mentees": list(e.mentees),
            "status": ACTIVE,
        }
    return doc


def role_matches(roles: tuple[str, ...], wanted: str) -> bool:
    """NRPS ``role`` filter: a full role URI, or a short context role name like ``Learner``."""
    if "://" in wanted:
        return wanted in roles
    return any(role == c.MEMBERSHIP + wanted for role in roles)


class Roster:
    """Memberships per course, persisted in ``roster.json``."""

    def __init__(self, store: JsonStore) -> None:
        self._store = store
        with store.lock:
            self._doc = store.load(_DOC, None)
            if self._doc is None:
                self._doc = _seed_document()
                store.save(_DOC, self._doc)

    def course(self, course_id: str) -> Course:
        """The course; KeyError for an unknown id."""
        return COURSES[course_id]

    def membership(self, course_id: str, user_id: str) -> Membership | None:
        entry = self._doc.get(course_id, {}).get(user_id)
        if entry is None:
            return None
        return Membership(
            user=USERS[user_id],
            course=COURSES[course_id],
            roles=tuple(entry["roles"]),
            section_ids=tuple(entry["section_ids"]),
            group_ids=tuple(entry["group_ids"]),
            mentees=tuple(entry["mentees"]),
            status=entry["status"],
        )

    def members(self, course_id: str) -> list[Membership]:
        """Everyone listed in the course (active and inactive), in seed order."""
        found = (self.membership(course_id, uid) for uid in self._doc.get(course_id, {}))
        return [m for m in found if m is not None]

    def remove(self, course_id: str, user_id: str, *, keep_inactive: bool = False) -> None:
        """Drop a member, or with ``keep_inactive`` keep them listed as Inactive."""
        with self._store.lock:
            members = self._doc[course_id]
            if user_id not in members:
                raise KeyError(f"{user_id} is not a member of {course_id}")
            if keep_inactive:
                members[user_id]["status"] = INACTIVE
            else:
                del members[user_id]
            self._store.save(_DOC, self._doc)

    def set_ids(self, course_id: str, user_id: str, kind: str, ids: list[str]) -> None:
        """Replace a member's ``section_ids`` or ``group_ids``; unknown ids are refused."""
        course = COURSES[course_id]
        known = course.sections if kind == "section_ids" else course.groups
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ValueError(f"unknown ids in {course_id}: {', '.join(unknown)}")
        with self._store.lock:
            self._doc[course_id][user_id][kind] = list(ids)
            self._store.save(_DOC, self._doc)
