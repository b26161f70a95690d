"""What the deletion machinery shows: the privacy officer's overview (upcoming, overdue, failed,
done) and the completeness check behind ``lti-tool audit verify``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, and_, cast, exists, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from lti_tool.audit.models import AuditEvent
from lti_tool.deletion.models import Deletion, DeletionState
from lti_tool.items.models import Item, ItemState
from lti_tool.policy import RetentionKind
from lti_tool.retention.schedule import NOTICE_DAYS, review_deadline


@dataclass(frozen=True)
class Upcoming:
    """An item that will be deleted on ``delete_on`` (or is overdue)."""

    item_id: int
    course_id: int
    title: str
    rule: str
    retention_rule: str
    delete_on: dt.date


@dataclass(frozen=True)
class Failed:
    """A deletion whose erasers failed: why, how often, when it is tried again."""

    item_id: int
    course_id: int
    title: str
    rule: str
    retention_rule: str
    due_on: dt.date
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None
    state: DeletionState


@dataclass(frozen=True)
class Done:
    item_id: int
    course_id: int
    title: str
    rule: str
    retention_rule: str
    due_on: dt.date
    done_at: dt.datetime | None
    removed: tuple[str, ...]


@dataclass(frozen=True)
class Overview:
    upcoming: list[Upcoming]
    overdue: list[Upcoming]
    failed: list[Failed]
    done: list[Done]


def _upcoming(item: Item) -> Upcoming:
    assert item.delete_on is not None
    return Upcoming(
        item.id, item.course_id, item.title, item.rule, item.retention_rule, item.delete_on
    )


def overview(
    session: Session,
    today: dt.date,
    *,
    course_ids: list[int] | None = None,
    horizon_days: int = 366,
    limit: int = 500,
) -> Overview:
    """The desk's deletion lists (optionally for some courses):

    - ``upcoming``: not deleted, ``delete_on`` from today up to ``horizon_days`` ahead, by date;
    - ``overdue``: not deleted although ``delete_on`` is before today (failed ones included);
    - ``failed``: deletions that failed (or were left unfinished), with reason and attempts;
    - ``done``: deletions carried out, newest first.
    """

    def scoped(column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
        return column.in_(course_ids) if course_ids is not None else literal(True)

    open_items = select(Item).where(Item.state != ItemState.DELETED, scoped(Item.course_id))
    upcoming = session.scalars(
        open_items.where(
            Item.delete_on >= today, Item.delete_on <= today + dt.timedelta(days=horizon_days)
        )
        .order_by(Item.delete_on, Item.id)
        .limit(limit)
    )
    overdue = session.scalars(
        open_items.where(Item.delete_on < today).order_by(Item.delete_on, Item.id).limit(limit)
    )
    failed_rows = session.execute(
        select(Deletion, Item)
        .join(Item, Item.id == Deletion.item_id)
        .where(Deletion.state != DeletionState.DONE, scoped(Deletion.course_id))
        .order_by(Deletion.due_on, Deletion.id)
        .limit(limit)
    )
    done_rows = session.execute(
        select(Deletion, Item)
        .join(Item, Item.id == Deletion.item_id)
        .where(Deletion.state == DeletionState.DONE, scoped(Deletion.course_id))
        .order_by(Deletion.done_at.desc(), Deletion.id.desc())
        .limit(limit)
    )
    return Overview(
        upcoming=[_upcoming(i) for i in upcoming],
        overdue=[_upcoming(i) for i in overdue],
        failed=[
            Failed(
                i.id,
                i.course_id,
                i.title,
                i.rule,
                d.retention_rule,
                d.due_on,
                d.attempts,
                d.last_error,
                d.next_attempt_at,
                d.state,
            )
            for d, i in failed_rows
        ],
        done=[
            Done(
                i.id,
                i.course_id,
                i.title,
                i.rule,
                d.retention_rule,
                d.due_on,
                d.done_at,
                tuple(d.removed),
            )
            for d, i in done_rows
        ],
    )


@dataclass(frozen=True)
class Offender:
    """An item the retention guarantee does not hold for."""

    item_id: int
    course_id: int
    problem: str
    date: dt.date | None

    def to_json(self) -> dict[str, object]:
        return {
            "item_id": self.item_id,
            "course_id": self.course_id,
            "problem": self.problem,
            "date": None if self.date is None else self.date.isoformat(),
        }


def verify(
    session: Session, today: dt.date, now: dt.datetime, *, grace_days: int = 30
) -> list[Offender]:
    """Items past their date that are neither deleted nor have a recorded failure being
    retried; review items unanswered past their grace without a deletion date; deleted items
    without a finished deletion and its ``item.deleted`` audit record."""
    retried = exists().where(
        Deletion.item_id == Item.id,
        Deletion.state == DeletionState.FAILED,
        Deletion.next_attempt_at.is_not(None),
        Deletion.last_error.is_not(None),
    )
    offenders: list[Offender] = []
    for item in session.scalars(
        select(Item)
        .where(Item.state != ItemState.DELETED, Item.delete_on < today, ~retried)
        .order_by(Item.id)
    ):
        offenders.append(
            Offender(item.id, item.course_id, "past its date, not deleted", item.delete_on)
        )
    cutoff = today - dt.timedelta(days=grace_days)
    for item in session.scalars(
        select(Item)
        .where(
            Item.state != ItemState.DELETED,
            Item.retention_kind == RetentionKind.REVIEW_ON,
            Item.delete_on.is_(None),
            Item.review_on < cutoff,
        )
        .order_by(Item.id)
    ):
        offenders.append(
            Offender(item.id, item.course_id, "review unanswered, no deletion date", item.review_on)
        )
    audited = exists().where(
        AuditEvent.kind == "item.deleted",
        AuditEvent.subject == literal("item:") + cast(Item.id, String),
    )
    finished = exists().where(Deletion.item_id == Item.id, Deletion.state == DeletionState.DONE)
    for item in session.scalars(
        select(Item)
        .where(Item.state == ItemState.DELETED, or_(~finished, and_(finished, ~audited)))
        .order_by(Item.id)
    ):
        offenders.append(
            Offender(item.id, item.course_id, "deleted without a complete audit record", None)
        )
    return offenders


@dataclass(frozen=True)
class Review:
    """An item whose yearly review is due (or soon): kept only if the teacher says so."""

    item_id: int
    title: str
    rule: str
    retention_rule: str
    review_on: dt.date
    deadline: dt.date | None
    held_until_graduation: bool


@dataclass(frozen=True)
class Notices:
    """What a teacher of a course is told on their page (G2.5, G4.2)."""

    going: list[Upcoming]
    reviews: list[Review]

    def __bool__(self) -> bool:
        return bool(self.going or self.reviews)


def notices(session: Session, course_id: int, today: dt.date, *, grace_days: int) -> Notices:
    """Items of the course deleted within two weeks (e.g. at the school-year end, G2.5) and
    items whose yearly review is due within two weeks (G4.2; G1 items while graduation dates
    are not known), by date."""
    horizon = today + dt.timedelta(days=NOTICE_DAYS)
    open_items = select(Item).where(Item.course_id == course_id, Item.state != ItemState.DELETED)
    going = session.scalars(
        open_items.where(Item.delete_on <= horizon).order_by(Item.delete_on, Item.id)
    )
    reviews = session.scalars(
        open_items.where(Item.delete_on.is_(None), Item.review_on <= horizon).order_by(
            Item.review_on, Item.id
        )
    )
    return Notices(
        going=[_upcoming(i) for i in going],
        reviews=[
            Review(
                item_id=i.id,
                title=i.title,
                rule=i.rule,
                retention_rule=i.retention_rule,
                review_on=i.review_on,
                deadline=None
                if i.retention_kind is RetentionKind.UNTIL_GRADUATION
                else review_deadline(i.review_on, grace_days),
                held_until_graduation=i.retention_kind is RetentionKind.UNTIL_GRADUATION,
            )
            for i in reviews
            if i.review_on is not None
        ],
    )
