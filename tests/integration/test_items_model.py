"""Invariants the database itself enforces for items and stored packs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from lti_tool.access.models import Course, Person
from lti_tool.db import Database, utcnow
from lti_tool.institution.models import GuidelinePack
from lti_tool.items.models import Item, ItemAudience
from lti_tool.lti.models import Registration


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.engine.dispose()


@pytest.fixture
def refs(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        registration = Registration(
            issuer="https://lms.example",
            client_id="c",
            auth_login_url="https://lms.example/auth",
            auth_token_url="https://lms.example/token",
            jwks_url="https://lms.example/jwks",
        )
        session.add(registration)
        session.flush()
        course = Course(registration_id=registration.id, context_id="c1")
        person = Person(registration_id=registration.id, sub="t")
        pack = GuidelinePack(digest="0" * 64, name="p", version="1", source="p.yaml", content="{}")
        session.add_all([course, person, pack])
        session.flush()
        return {"course": course.id, "person": person.id, "pack": pack.id}


def _item(refs: dict[str, int], **change: Any) -> Item:
    values: dict[str, Any] = {
        "course_id": refs["course"],
        "creator_id": refs["person"],
        "title": "t",
        "state": "ready",
        "made": "stream",
        "recognisable": ["students"],
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
        "decision": {},
        "pack_id": refs["pack"],
        "confirmed": [],
        "confirmed_at": utcnow(),
        "confirmed_by_id": refs["person"],
        "audience_scope": "course",
        "delete_on": dt.date(2027, 7, 31),
    }
    return Item(**{**values, **change})


def test_a_valid_item_is_stored(db: Database, refs: dict[str, int]) -> None:
    with db.transaction() as session:
        session.add(_item(refs))


@pytest.mark.parametrize(
    "change",
    [
        {"delete_on": None, "review_on": None},  # storage limitation: never without a date
        {"outcome": "refused"},  # refusals are never stored
    ],
)
def test_database_refuses_items_breaking_an_invariant(
    db: Database, refs: dict[str, int], change: dict[str, Any]
) -> None:
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(_item(refs, **change))


def test_database_refuses_an_unknown_state(db: Database, refs: dict[str, int]) -> None:
    with db.transaction() as session:
        session.add(_item(refs))
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.execute(text("UPDATE items SET state = 'streaming'"))


def test_audience_entry_is_a_group_or_a_person(db: Database, refs: dict[str, int]) -> None:
    with db.transaction() as session:
        item = _item(refs)
        session.add(item)
        session.flush()
        item_id = item.id
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(ItemAudience(item_id=item_id))


def test_stored_packs_never_change(db: Database, refs: dict[str, int]) -> None:
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
        session.execute(update(GuidelinePack).values(version="2"))
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
        session.execute(text("DELETE FROM guideline_packs"))
