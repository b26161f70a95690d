"""Read models of consent for pages and exports: one item's requests, a course overview,
a person's own view and an item's evidence file. Each costs a fixed number of statements."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from lti_tool.access.audience import items_for_student
from lti_tool.access.models import Course, Person
from lti_tool.consent import ledger
from lti_tool.consent.models import (
    AnsweredBy,
    ConsentRequest,
    ConsentText,
    DeletionPlan,
    LedgerKind,
    LedgerRecord,
)
from lti_tool.consent.operations import OBJECTABLE, minor
from lti_tool.consent.state import (
    PENDING,
    RequestState,
    Status,
    counts_per_item,
    objectors,
    statuses,
)
from lti_tool.items.models import Item, ItemState
from lti_tool.policy import Outcome
from lti_tool.recordings.models import RecordingPerson


@dataclass(frozen=True)
class RequestRow:
    """One request with where it stands, for pages."""

    request: ConsentRequest
    name: str
    status: Status
    guardian_answers: bool  # the person asked is under 16 today
    needs_confirmation: bool  # a parent consented; the student, now 16, should confirm
    plan: DeletionPlan | None

    @property
    def state(self) -> str:
        return self.status.state.value


@dataclass(frozen=True)
class ItemConsent:
    """Who was asked about one item and what they answered; who objects."""

    item: Item
    rows: list[RequestRow]
    objecting: list[str]
    plans: list[DeletionPlan]

    @property
    def counts(self) -> Counter[str]:
        return Counter(row.state for row in self.rows)

    @property
    def last_reminder(self) -> dt.datetime | None:
        return max((r.status.reminded_at for r in self.rows if r.status.reminded_at), default=None)


def _name(req: ConsentRequest) -> str:
    if req.person is not None:
        return req.person.name or req.person.sub
    return req.guest_name or ""


def _rows(
    session: Session, query: Select[ConsentRequest], course: Course, today: dt.date
) -> list[RequestRow]:
    """The requests ``query`` selects with their status and plan (subqueries, not id lists)."""
    requests = session.scalars(query.options(selectinload(ConsentRequest.person)))
    ids = query.with_only_columns(ConsentRequest.id)
    found = statuses(session, ids)
    plans = {
        p.request_id: p
        for p in session.scalars(select(DeletionPlan).where(DeletionPlan.request_id.in_(ids)))
    }
    rows = []
    for req in requests:
        status = found.get(req.id, PENDING)
        under_16 = req.person is not None and minor(req.person, course, today)
        rows.append(
            RequestRow(
                request=req,
                name=_name(req),
                status=status,
                guardian_answers=under_16,
                needs_confirmation=status.state is RequestState.GIVEN
                and status.answered_by == AnsweredBy.GUARDIAN.value
                and not under_16
                and status.confirmed is None,
                plan=plans.get(req.id),
            )
        )
    return sorted(rows, key=lambda r: r.name.lower())


def item_consent(session: Session, item: Item, today: dt.date) -> ItemConsent:
    """Everything the teacher's consent page of ``item`` shows."""
    subjects = objectors(session, item.course_id, [item.id])[item.id]
    people = _people(session, subjects)
    plans = list(session.scalars(select(DeletionPlan).where(DeletionPlan.item_id == item.id)))
    return ItemConsent(
        item=item,
        rows=_rows(
            session,
            select(ConsentRequest).where(ConsentRequest.item_id == item.id),
            item.course,
            today,
        ),
        objecting=sorted(people.values(), key=str.lower),
        plans=plans,
    )


def _people(session: Session, subjects: Iterable[str]) -> dict[str, str]:
    ids = [int(s.split(":", 1)[1]) for s in subjects if s.startswith("person:")]
    return {
        f"person:{p.id}": p.name or p.sub
        for p in session.scalars(select(Person).where(Person.id.in_(ids)))
    }


@dataclass(frozen=True)
class CourseConsent:
    """Per item of a course: how many requests stand where, and how many object."""

    counts: dict[int, Counter[str]]
    objections: dict[int, int]


def course_consent(session: Session, course_id: int) -> CourseConsent:
    """The consent overview of a course's items in three statements, whatever its size."""
    item_ids = select(Item.id).where(Item.course_id == course_id)
    counts = counts_per_item(session, item_ids)
    objecting = objectors(session, course_id, session.scalars(item_ids))
    return CourseConsent(counts, {i: len(s) for i, s in objecting.items() if s})


@dataclass(frozen=True)
class MyItem:
    """An item as one student sees it in their own overview."""

    item: Item
    in_audience: bool
    request: RequestRow | None
    objecting: bool
    may_object: bool
    appears: bool = False  # marked as recognisable in its recordings


@dataclass(frozen=True)
class MyView:
    """A student's recordings, streams, requests and objections in one course."""

    person: Person
    guardian_answers: bool
    items: list[MyItem] = field(default_factory=list)


def my_view(session: Session, person: Person, course: Course, today: dt.date) -> MyView:
    """Every item of ``course`` that concerns ``person``: in its audience or asked to consent."""
    requests = (
        select(ConsentRequest)
        .join(Item, Item.id == ConsentRequest.item_id)
        .where(
            ConsentRequest.person_id == person.id,
            Item.course_id == course.id,
            Item.state != ItemState.CANCELLED,
        )
    )
    rows = {row.request.item_id: row for row in _rows(session, requests, course, today)}
    audience = {item.id: item for item in items_for_student(session, course.id, person.id)}
    appearing = set(
        session.scalars(
            select(RecordingPerson.item_id).where(RecordingPerson.person_id == person.id)
        )
    )
    asked = {
        item.id: item
        for item in session.scalars(
            select(Item).where(
                Item.id.in_(list(set(rows) | appearing)),
                Item.course_id == course.id,
                Item.state != ItemState.CANCELLED,
            )
        )
        if item.id not in audience
    }
    subject = f"person:{person.id}"
    objecting = objectors(session, course.id, [*audience, *asked])
    items = [
        MyItem(
            item=item,
            in_audience=item.id in audience,
            request=rows.get(item.id),
            objecting=subject in objecting[item.id],
            may_object=item.id in audience
            and item.legal_basis in OBJECTABLE
            and item.removed_at is None,
            appears=item.id in appearing,
        )
        for item in [*audience.values(), *asked.values()]
    ]
    items.sort(key=lambda m: (m.item.created_at, m.item.id), reverse=True)
    return MyView(person, minor(person, course, today), items)


def pending_count(session: Session, person_ids: Iterable[int], course_id: int) -> int:
    """How many requests of these people in this course nobody answered yet (banner)."""
    request_ids = (
        select(ConsentRequest.id)
        .join(Item, Item.id == ConsentRequest.item_id)
        .where(
            ConsentRequest.person_id.in_(list(person_ids)),
            Item.course_id == course_id,
            Item.state != ItemState.CANCELLED,
            Item.removed_at.is_(None),
        )
    )
    found = statuses(session, request_ids)
    return sum(
        1
        for request_id in session.scalars(request_ids)
        if found.get(request_id, PENDING).state is RequestState.PENDING
    )


def _record_json(r: LedgerRecord) -> dict[str, Any]:
    fields = {name: getattr(r, name) for name in ledger.HASHED}
    return {
        **{name: ledger.plain(value) for name, value in fields.items()},
        "prev_hash": r.prev_hash,
        "hash": r.hash,
        "hash_matches": ledger.chain_hash(r.prev_hash, fields) == r.hash,
    }


def evidence(session: Session, item: Item, today: dt.date) -> dict[str, Any]:
    """The evidence file of one item: facts, decision, people asked, every ledger record about
    it (with hashes, each checked) and the exact texts shown."""
    view = item_consent(session, item, today)
    request_ids = [row.request.id for row in view.rows]
    records = [
        r
        for r in session.scalars(
            select(LedgerRecord)
            .where(
                or_(
                    LedgerRecord.request_id.in_(request_ids),
                    LedgerRecord.kind.in_([LedgerKind.OBJECTED, LedgerKind.OBJECTION_WITHDRAWN])
                    & (LedgerRecord.course_id == item.course_id),
                )
            )
            .order_by(LedgerRecord.seq)
        )
        if r.request_id is not None or item.id in r.item_ids
    ]
    hashes = {row.request.text_en for row in view.rows} | {row.request.text_nl for row in view.rows}
    texts = session.scalars(select(ConsentText).where(ConsentText.hash.in_(hashes)))
    return {
        "item": {
            "id": item.id,
            "title": item.title,
            "course": item.course.title,
            "state": item.state.value,
            "rule": item.rule,
            "outcome": item.outcome.value,
            "legal_basis": item.legal_basis.value,
            "purpose": item.purpose.value,
            "audience": item.audience.value,
            "consent_from": item.consent_from,
            "delete_on": item.delete_on.isoformat() if item.delete_on else None,
            "review_on": item.review_on.isoformat() if item.review_on else None,
            "removed_at": item.removed_at.isoformat() if item.removed_at else None,
            "published": item.state is ItemState.READY
            and item.outcome is Outcome.CONSENT_REQUIRED
            and item.removed_at is None,
            "decision": item.decision,
        },
        "requests": [
            {
                "id": row.request.id,
                "subject": row.request.subject,
                "name": row.name,
                "state": row.state,
                "answered_by": row.status.answered_by,
                "at": row.status.at.isoformat() if row.status.at else None,
                "parent_or_guardian_answers": row.guardian_answers,
            }
            for row in view.rows
        ],
        "objecting": view.objecting,
        "deletion_plans": [
            {
                "request": p.request_id,
                "action": p.action.value,
                "removed_from_view_on": p.removed_from_view_on.isoformat()
                if p.removed_from_view_on
                else None,
                "delete_on": p.delete_on.isoformat(),
                "replace_for_next_year": p.replace_for_next_year,
            }
            for p in view.plans
        ],
        "ledger": [_record_json(r) for r in records],
        "texts": {
            t.hash: {"version": t.version, "language": t.language, "body": t.body} for t in texts
        },
    }
