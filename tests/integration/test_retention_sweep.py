"""The retention sweep on a real database: due items deleted once, audited, failures retried."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from lti_tool.audit.models import AuditEvent
from lti_tool.db import Database, utcnow
from lti_tool.deletion.erasers import Eraser
from lti_tool.deletion.models import Deletion, DeletionState
from lti_tool.deletion.operations import due_items, sweep
from lti_tool.deletion.queries import overview, verify
from lti_tool.items.models import Item, ItemState
from tests.support.deletion import FakeStorage, World, add_item, world

JULY_31 = dt.date(2027, 7, 31)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.engine.dispose()


@pytest.fixture
def w(db: Database) -> World:
    return world(db)


@pytest.fixture
def storage() -> FakeStorage:
    return FakeStorage()


def _erasers(storage: FakeStorage) -> list[tuple[str, Eraser]]:
    return [("media", storage.erase)]


def _items(db: Database, w: World, storage: FakeStorage, dates: list[dt.date]) -> list[int]:
    with db.transaction() as session:
        ids = [add_item(session, w, delete_on=d).id for d in dates]
    storage.files.update(ids)
    return ids


def test_moving_the_clock_past_a_date_deletes_exactly_the_items_due(
    db: Database, w: World, storage: FakeStorage
) -> None:
    early, due_today, later = _items(
        db, w, storage, [dt.date(2027, 7, 1), JULY_31, dt.date(2027, 8, 1)]
    )
    assert sweep(db, dt.date(2027, 6, 30), grace_days=30, erasers=_erasers(storage)).deleted == 0
    summary = sweep(db, JULY_31, grace_days=30, erasers=_erasers(storage))
    assert (summary.deleted, summary.failed) == (2, 0)
    assert storage.files == {later}
    with db.transaction() as session:
        states = {i.id: i.state for i in session.scalars(select(Item))}
        assert states == {
            early: ItemState.DELETED,
            due_today: ItemState.DELETED,
            later: ItemState.READY,
        }
        events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "item.deleted")).all()
        by_subject = {e.subject: e.data for e in events}
        assert set(by_subject) == {f"item:{early}", f"item:{due_today}"}
        data = by_subject[f"item:{early}"]
        assert data["rule"] == "G2" and data["retention_rule"] == "G2.5"
        assert data["due_on"] == "2027-07-01" and data["done_on"] == "2027-07-31"
        assert data["removed"] == [f"media: fake://media/{early}.mp4: removed"]
        assert verify(session, JULY_31, utcnow()) == []


def test_running_twice_deletes_nothing_twice(db: Database, w: World, storage: FakeStorage) -> None:
    _items(db, w, storage, [JULY_31] * 3)
    assert sweep(db, JULY_31, grace_days=30, erasers=_erasers(storage)).deleted == 3
    assert sweep(db, JULY_31, grace_days=30, erasers=_erasers(storage)).deleted == 0
    assert set(storage.calls.values()) == {1}


def test_limit_and_dry_run_listing(db: Database, w: World, storage: FakeStorage) -> None:
    ids = _items(db, w, storage, [JULY_31] * 3)
    with db.transaction() as session:
        assert [i.id for i in due_items(session, JULY_31, utcnow())] == ids
    assert sweep(db, JULY_31, grace_days=30, limit=2, erasers=_erasers(storage)).deleted == 2
    assert len(storage.files) == 1


def test_storage_down_fails_visibly_is_retried_and_never_reported_deleted(
    db: Database, w: World, storage: FakeStorage
) -> None:
    (item_id,) = _items(db, w, storage, [JULY_31])
    storage.down = True
    summary = sweep(db, JULY_31, grace_days=30, erasers=_erasers(storage))
    assert (summary.deleted, summary.failed) == (0, 1)
    with db.transaction() as session:
        deletion = session.scalars(select(Deletion)).one()
        assert deletion.state is DeletionState.FAILED and deletion.attempts == 1
        assert "connection refused" in (deletion.last_error or "")
        assert session.get_one(Item, item_id).state is ItemState.READY
        assert not session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "item.deleted")
        ).all()
        desk = overview(session, JULY_31)
        assert [f.item_id for f in desk.failed] == [item_id]
        assert desk.failed[0].attempts == 1 and desk.failed[0].last_error
        # a failure being retried is not an offence; retries wait for the back-off
        assert verify(session, JULY_31 + dt.timedelta(days=1), utcnow()) == []
    assert sweep(db, JULY_31, grace_days=30, erasers=_erasers(storage)).failed == 0
    with db.transaction() as session:  # the back-off has passed
        session.scalars(select(Deletion)).one().next_attempt_at = utcnow() - dt.timedelta(seconds=1)
    assert sweep(db, JULY_31, grace_days=30, erasers=_erasers(storage)).failed == 1
    storage.down = False
    with db.transaction() as session:
        session.scalars(select(Deletion)).one().next_attempt_at = utcnow() - dt.timedelta(seconds=1)
    assert sweep(db, JULY_31, grace_days=30, erasers=_erasers(storage)).deleted == 1
    assert storage.removals[item_id] == 1 and not storage.files
    with db.transaction() as session:
        deletion = session.scalars(select(Deletion)).one()
        assert deletion.state is DeletionState.DONE and deletion.attempts == 3
        assert [d.item_id for d in overview(session, JULY_31).done] == [item_id]


def test_a_deletion_left_marked_or_provider_deleted_is_finished(
    db: Database, w: World, storage: FakeStorage
) -> None:
    marked, provider_deleted = _items(db, w, storage, [JULY_31, JULY_31])
    with db.transaction() as session:  # as a sweeper killed in phase 1 and in phase 2 leaves them
        for item_id, state in (
            (marked, DeletionState.MARKED),
            (provider_deleted, DeletionState.PROVIDER_DELETED),
        ):
            session.add(
                Deletion(
                    item_id=item_id,
                    course_id=w.course,
                    rule="G2",
                    retention_rule="G2.5",
                    due_on=JULY_31,
                    state=state,
                    attempts=1,
                    removed=["media: earlier"],
                )
            )
    storage.files.discard(provider_deleted)
    assert sweep(db, JULY_31, grace_days=30, erasers=_erasers(storage)).deleted == 2
    assert storage.calls[marked] == 1 and storage.calls[provider_deleted] == 0
    with db.transaction() as session:
        assert {d.state for d in session.scalars(select(Deletion))} == {DeletionState.DONE}


def test_unanswered_review_gets_a_date_and_is_deleted(
    db: Database, w: World, storage: FakeStorage
) -> None:
    with db.transaction() as session:
        item = add_item(
            session,
            w,
            rule="G4",
            retention_kind="review-on",
            retention_rule="G4.2",
            delete_on=None,
            review_on=dt.date(2027, 6, 1),
        )
    storage.files.add(item.id)
    assert sweep(db, dt.date(2027, 6, 30), grace_days=30, erasers=_erasers(storage)).deleted == 0
    with db.transaction() as session:
        assert session.get_one(Item, item.id).delete_on is None
        late = verify(session, dt.date(2027, 7, 2), utcnow(), grace_days=30)
        assert [(o.item_id, o.problem) for o in late] == [
            (item.id, "review unanswered, no deletion date")
        ]
    assert sweep(db, dt.date(2027, 7, 1), grace_days=30, erasers=_erasers(storage)).deleted == 1
    with db.transaction() as session:
        assert session.get_one(Item, item.id).delete_on == dt.date(2027, 7, 1)
        change = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "retention.date-changed")
        ).one()
        assert change.data["because"] == "review-unanswered"
        deleted = session.scalars(select(AuditEvent).where(AuditEvent.kind == "item.deleted")).one()
        assert deleted.data["retention_rule"] == "G4.2"


def test_overview_lists_upcoming_and_overdue(db: Database, w: World, storage: FakeStorage) -> None:
    overdue, soon, _beyond_horizon = _items(
        db, w, storage, [dt.date(2027, 7, 1), dt.date(2027, 8, 15), dt.date(2029, 1, 1)]
    )
    with db.transaction() as session:
        desk = overview(session, JULY_31)
        assert [u.item_id for u in desk.overdue] == [overdue]
        assert [(u.item_id, u.delete_on) for u in desk.upcoming] == [(soon, dt.date(2027, 8, 15))]
        assert overview(session, JULY_31, course_ids=[w.course + 1]).overdue == []
        assert [o.item_id for o in verify(session, JULY_31, utcnow())] == [overdue]
