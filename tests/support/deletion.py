"""Items straight in the database for retention tests, and a faithful fake eraser."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.access.models import Course, Membership, Person
from lti_tool.db import Database, utcnow
from lti_tool.errors import UpstreamError
from lti_tool.institution.models import GuidelinePack
from lti_tool.items.models import Item
from lti_tool.lti.models import Registration


@dataclass(frozen=True)
class World:
    registration: int
    course: int
    teacher: int
    pack: int


def world(db: Database, context_id: str = "c1") -> World:
    """A registration with one course, its teacher and a stored pack."""
    with db.transaction() as session:
        registration = Registration(
            issuer=f"https://lms.example/{context_id}",
            client_id="c",
            auth_login_url="https://lms.example/auth",
            auth_token_url="https://lms.example/token",
            jwks_url="https://lms.example/jwks",
        )
        session.add(registration)
        session.flush()
        course = Course(registration_id=registration.id, context_id=context_id)
        teacher = Person(registration_id=registration.id, sub="teacher")
        pack = GuidelinePack(
            digest=context_id.ljust(64, "0")[:64], name="p", version="1", source="p", content="{}"
        )
        session.add_all([course, teacher, pack])
        session.flush()
        session.add(
            Membership(
                course_id=course.id,
                person_id=teacher.id,
                roles=["teacher"],
            )
        )
        return World(registration.id, course.id, teacher.id, pack.id)


def item_values(w: World, **change: Any) -> dict[str, Any]:
    """Column values of a G2 live-lesson item deleted at the school-year end 2027."""
    values: dict[str, Any] = {
        "course_id": w.course,
        "creator_id": w.teacher,
        "title": "Lesson",
        "state": "ready",
        "made": "stream",
        "recognisable": ["teacher", "students"],
        "purpose": "remote-lesson",
        "audience": "class",
        "teacher_location": "school",
        "set_up_on": dt.date(2027, 3, 15),
        "rule": "G2",
        "outcome": "allowed",
        "legal_basis": "legitimate-interest",
        "visibility": "class-group",
        "consent_from": [],
        "conditions": [],
        "retention_kind": "delete-on",
        "retention_rule": "G2.5",
        "decision": {"pack_version": "1"},
        "pack_id": w.pack,
        "confirmed": [],
        "confirmed_at": utcnow(),
        "confirmed_by_id": w.teacher,
        "audience_scope": "course",
        "delete_on": dt.date(2027, 7, 31),
        "review_on": None,
    }
    values.update(change)
    return values


def add_item(session: Session, w: World, **change: Any) -> Item:
    item = Item(**item_values(w, **change))
    session.add(item)
    session.flush()
    return item


class StorageDown(UpstreamError):
    reason = "storage down"


@dataclass
class FakeStorage:
    """A media store: items' files, erased on request; ``down`` makes every call fail.
    Counts the calls that really removed something, per item."""

    down: bool = False
    files: set[int] = field(default_factory=set)
    calls: Counter[int] = field(default_factory=Counter)
    removals: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def erase(self, session: Session, item: Item) -> list[str]:
        with self.lock:
            self.calls[item.id] += 1
            if self.down:
                raise StorageDown(detail="connection refused")
            if item.id not in self.files:
                return []
            self.files.discard(item.id)
            self.removals[item.id] += 1
            return [f"fake://media/{item.id}.mp4: removed"]
