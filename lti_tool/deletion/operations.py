"""The retention sweep: delete every item whose date has come, one item per transaction.

Per item (two phases, resumable):

1. claim the item row (PostgreSQL: ``SELECT … FOR NO KEY UPDATE SKIP LOCKED`` in transaction
   A, held until the item is done, so concurrent sweepers skip it; SQLite: one sweeper at a
   time under a file lock) and commit ``marked`` (attempts + 1) in transaction B;
2. run every registered eraser (idempotent); commit ``provider-deleted`` with what was removed
   where in B — or ``failed`` with the error and a back-off, audited, and stop here;
3. in A: the item becomes ``deleted``, the deletion ``done``, the ``item.deleted`` audit event
   is written; commit (this releases the claim).

A crash after 1 leaves ``marked``: the next sweep runs the erasers again (they are
idempotent). A crash after 2 leaves ``provider-deleted``: the next sweep only finishes it.
A database error is never swallowed: the sweep stops with it and the next one continues.
"""

from __future__ import annotations

import datetime as dt
import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lti_tool.audit.operations import record
from lti_tool.consent.models import DeletionPlan
from lti_tool.db import Database, utcnow
from lti_tool.deletion.erasers import Eraser, registered
from lti_tool.deletion.models import Deletion, DeletionState
from lti_tool.items.models import Item, ItemState
from lti_tool.policy import RetentionKind
from lti_tool.retention.schedule import next_attempt, review_deadline

MAX_ERROR = 2000


def due(today: dt.date, now: dt.datetime) -> ColumnElement[bool]:
    """SQL: the item is due for deletion on ``today`` and not waiting for a retry at ``now``.

    ``state <> 'deleted'`` is written literally so PostgreSQL uses the partial index
    ``ix_items_due`` (only undeleted items): the cost follows what is due, not what is stored.
    """
    waiting = select(Deletion.id).where(Deletion.item_id == Item.id, Deletion.next_attempt_at > now)
    return and_(text("items.state <> 'deleted'"), Item.delete_on <= today, ~exists(waiting))


def due_items(
    session: Session, today: dt.date, now: dt.datetime, limit: int | None = None
) -> list[Item]:
    """The items a sweep on ``today`` would delete, earliest date first (``--dry-run``)."""
    query = select(Item).where(due(today, now)).order_by(Item.delete_on, Item.id)
    return list(session.scalars(query.limit(limit) if limit else query))


def count_due(session: Session, today: dt.date, now: dt.datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(Item).where(due(today, now))) or 0)


@dataclass(frozen=True)
class Outcome:
    """What the sweep did with one item."""

    item_id: int
    state: DeletionState
    removed: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class Summary:
    deleted: int = 0
    failed: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if outcome.state is DeletionState.DONE:
            self.deleted += 1
        else:
            self.failed += 1


def _retention_rule(session: Session, item: Item, today: dt.date) -> str:
    """Where the date comes from: a withdrawal's deletion plan (G3.2) or the item's own rule."""
    planned = session.scalar(
        select(func.min(DeletionPlan.delete_on)).where(DeletionPlan.item_id == item.id)
    )
    if planned is not None and planned <= today and planned == item.delete_on:
        return "G3.2"
    return item.retention_rule


@contextmanager
def _sqlite_lock(db: Database) -> Iterator[None]:
    """SQLite has no row locks: one sweeper at a time per database file."""
    database = make_url(db.url).database
    if not database or database == ":memory:":
        yield
        return
    with Path(database + ".sweep.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _claim(session: Session, today: dt.date, now: dt.datetime) -> Item | None:
    query = select(Item).where(due(today, now)).order_by(Item.delete_on).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        # NO KEY UPDATE: the deletions row (a foreign key to this item) can still be written
        # by transaction B while A holds the item.
        query = query.with_for_update(skip_locked=True, key_share=True, of=Item)
    return session.scalar(query)


def _erase(session: Session, item: Item, erasers: list[tuple[str, Eraser]]) -> list[str]:
    lines: list[str] = []
    for name, erase in erasers:
        try:
            lines += [f"{name}: {line}" for line in erase(session, item)]
        except SQLAlchemyError:
            raise
        except Exception as exc:
            raise _EraserFailed(f"{name}: {type(exc).__name__}: {exc}") from exc
    return lines


class _EraserFailed(Exception):
    pass


@dataclass(frozen=True)
class _Done:
    id: int
    retention_rule: str
    due_on: dt.date
    attempts: int


def _process(
    a: Session, b: Session, held: Item, today: dt.date, erasers: list[tuple[str, Eraser]]
) -> Outcome:
    item_id = held.id
    item = held if a is b else b.get_one(Item, item_id)
    deletion = b.scalar(select(Deletion).where(Deletion.item_id == item_id))
    if deletion is None:
        assert item.delete_on is not None
        deletion = Deletion(
            item_id=item.id,
            course_id=item.course_id,
            rule=item.rule,
            retention_rule=_retention_rule(b, item, today),
            due_on=item.delete_on,
            state=DeletionState.MARKED,
            attempts=0,
            removed=[],
            marked_at=utcnow(),
        )
        b.add(deletion)
    if deletion.state is not DeletionState.PROVIDER_DELETED:
        deletion.state = DeletionState.MARKED
        deletion.attempts += 1
        deletion.next_attempt_at = None
        b.commit()
        try:
            lines = _erase(b, item, erasers)
        except _EraserFailed as failure:
            b.rollback()
            deletion = b.get_one(Deletion, deletion.id)
            deletion.state = DeletionState.FAILED
            deletion.last_error = str(failure)[:MAX_ERROR]
            deletion.next_attempt_at = next_attempt(utcnow(), deletion.attempts)
            record(
                b,
                "item.deletion-failed",
                course_id=item.course_id,
                subject=item.subject,
                pack_version=item.decision.get("pack_version"),
                rule=item.rule,
                retention_rule=deletion.retention_rule,
                due_on=deletion.due_on.isoformat(),
                attempts=deletion.attempts,
                error=deletion.last_error,
                next_attempt_at=deletion.next_attempt_at.isoformat(),
            )
            b.commit()
            a.rollback()
            return Outcome(item_id, DeletionState.FAILED, error=deletion.last_error)
        deletion.state = DeletionState.PROVIDER_DELETED
        deletion.removed = lines
        deletion.provider_deleted_at = utcnow()
        deletion.last_error = None
        b.commit()
    removed = list(deletion.removed)
    done = _Done(deletion.id, deletion.retention_rule, deletion.due_on, deletion.attempts)
    # Phase 3 in A, which holds the item: done, deleted and audited together.
    now = utcnow()
    held.state = ItemState.DELETED
    held.removed_at = held.removed_at or now
    a.execute(
        update(Deletion)
        .where(Deletion.id == done.id)
        .values(state=DeletionState.DONE, done_at=now)
        .execution_options(synchronize_session=False)
    )
    record(
        a,
        "item.deleted",
        course_id=held.course_id,
        subject=held.subject,
        pack_version=held.decision.get("pack_version"),
        title=held.title,
        rule=held.rule,
        retention_rule=done.retention_rule,
        due_on=done.due_on.isoformat(),
        done_on=today.isoformat(),
        done_at=now.isoformat(),
        attempts=done.attempts,
        removed=removed,
    )
    a.commit()
    return Outcome(item_id, DeletionState.DONE, tuple(removed))


class Sweeper:
    """Two sessions on two connections held for a whole sweep (PostgreSQL): A claims and
    finishes items, B records the phases in between. Phase records are committed without
    waiting for the disk (``synchronous_commit off``): losing one in a database crash only
    means the idempotent erasers run again. SQLite: one session for both."""

    def __init__(self, db: Database, erasers: list[tuple[str, Eraser]] | None = None):
        self.db = db
        self.erasers = registered() if erasers is None else erasers
        self.postgresql = db.engine.dialect.name == "postgresql"
        self.connections = [db.engine.connect(), db.engine.connect()] if self.postgresql else []
        if self.postgresql:
            self.a = Session(bind=self.connections[0], expire_on_commit=False)
            self.b = Session(bind=self.connections[1], expire_on_commit=False)
            self.connections[1].exec_driver_sql("SET synchronous_commit = off")
            self.connections[1].commit()
        else:
            self.a = self.b = db.sessions()

    def one(self, today: dt.date) -> Outcome | None:
        """Delete one due item (None: nothing is due that no other sweeper holds)."""
        try:
            held = _claim(self.a, today, utcnow())
            if held is None:
                self.a.rollback()
                return None
            if not self.postgresql:
                self.a.commit()  # SQLite: end the read; the sweep's file lock is the claim
            return _process(self.a, self.b, held, today, self.erasers)
        except BaseException:
            self.a.rollback()
            self.b.rollback()
            raise
        finally:
            self.a.expunge_all()  # bounded memory, fresh rows for the next item
            self.b.expunge_all()

    def close(self) -> None:
        for session in {self.a, self.b}:
            session.close()
        if self.postgresql:
            try:
                self.connections[1].exec_driver_sql("RESET synchronous_commit")
                self.connections[1].commit()
            except SQLAlchemyError:
                self.connections[1].invalidate()
        for conn in self.connections:
            conn.close()


def sweep_one(
    db: Database, today: dt.date, erasers: list[tuple[str, Eraser]] | None = None
) -> Outcome | None:
    """Delete one due item (None: nothing is due that no other sweeper holds)."""
    sweeper = Sweeper(db, erasers)
    try:
        return sweeper.one(today)
    finally:
        sweeper.close()


def expire_reviews(session: Session, today: dt.date, grace_days: int) -> list[int]:
    """G4.2: a yearly review left unanswered ``grace_days`` after its date gives the item a
    deletion date (that day), audited; the sweep then deletes it. Returns the item ids."""
    cutoff = today - dt.timedelta(days=grace_days)
    items = session.scalars(
        select(Item)
        .where(
            Item.retention_kind == RetentionKind.REVIEW_ON,
            Item.delete_on.is_(None),
            Item.review_on <= cutoff,
            Item.state != ItemState.DELETED,
        )
        .order_by(Item.id)
        .with_for_update(skip_locked=True)  # another sweeper doing the same skips them
    ).all()
    for item in items:
        assert item.review_on is not None
        new = review_deadline(item.review_on, grace_days)
        record(
            session,
            "retention.date-changed",
            course_id=item.course_id,
            subject=item.subject,
            pack_version=item.decision.get("pack_version"),
            because="review-unanswered",
            rule=item.retention_rule,
            old={"delete_on": None, "review_on": item.review_on.isoformat()},
            new={"delete_on": new.isoformat(), "review_on": item.review_on.isoformat()},
        )
        item.delete_on = new
    session.flush()
    return [item.id for item in items]


def sweep(
    db: Database,
    today: dt.date,
    *,
    grace_days: int,
    limit: int | None = None,
    erasers: list[tuple[str, Eraser]] | None = None,
    on_item: Callable[[Outcome], Any] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Summary:
    """Expire unanswered reviews, then delete due items one per transaction until none is
    left (or ``limit`` items were handled, or ``should_stop()``)."""
    summary = Summary()
    guard = _sqlite_lock(db) if db.engine.dialect.name == "sqlite" else _nothing()
    with guard:
        with db.transaction() as session:
            expire_reviews(session, today, grace_days)
        sweeper = Sweeper(db, erasers)
        try:
            while (limit is None or len(summary.outcomes) < limit) and not should_stop():
                outcome = sweeper.one(today)
                if outcome is None:
                    break
                summary.add(outcome)
                if on_item is not None:
                    on_item(outcome)
        finally:
            sweeper.close()
    return summary


@contextmanager
def _nothing() -> Iterator[None]:
    yield
