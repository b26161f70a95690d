"""Consent at the size of a real course: overviews cost a fixed number of statements however
many students and items there are, and concurrent answers neither get lost nor fork the
ledger; when one person's two answers race, the later ledger record decides, for the request
and for whether the item is published."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, event, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.access.models import Course, Membership, Person
from lti_tool.audit.models import AuditEvent
from lti_tool.consent import ledger, operations, queries
from lti_tool.consent.models import ConsentRequest, LedgerKind, LedgerRecord
from lti_tool.consent.operations import Caller, Context
from lti_tool.consent.state import RequestState, statuses
from lti_tool.db import Database
from lti_tool.institution.queries import institution_for
from lti_tool.items.forms import Setup
from lti_tool.items.models import AudienceScope, Item, ItemState
from lti_tool.items.operations import cancel_item, create_item
from lti_tool.lti.models import Registration
from lti_tool.policy import Facts

T = TypeVar("T")
TODAY = dt.date(2027, 3, 15)
G3_FACTS = {
    "made": "recording",
    "recognisable": ["students"],
    "purpose": "wider-audience",
    "audience": "institution",
    "teacher_location": "school",
}


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {**tool_settings, "today": TODAY.isoformat()}


@pytest.fixture
def db(app: Flask) -> Database:
    return app.extensions["lti_tool"].db  # type: ignore[no-any-return]


@pytest.fixture
def pg_only(db_kind: str) -> None:
    if db_kind != "postgresql":
        pytest.skip("needs concurrent writers: SQLite serialises every write transaction")


@dataclass(frozen=True)
class World:
    """A course with its teacher, students and G3 items (database ids)."""

    registration_id: int
    course_id: int
    teacher_id: int
    student_ids: list[int]
    item_ids: list[int]


def _registration(session: Session) -> int:
    found = session.scalar(select(Registration.id))
    if found is not None:
        return int(found)
    registration = Registration(
        issuer="https://lms.example",
        client_id="scale",
        auth_login_url="https://lms.example/auth",
        auth_token_url="https://lms.example/token",
        jwks_url="https://lms.example/jwks",
    )
    session.add(registration)
    session.flush()
    return registration.id


def _ctx(app: Flask, session: Session, registration_id: int) -> Context:
    settings = app.extensions["lti_tool"].settings
    return Context(institution_for(session, settings, registration_id), settings, TODAY)


def _teacher(session: Session, world: World) -> Caller:
    teacher = session.get_one(Person, world.teacher_id)
    return Caller(
        world.registration_id,
        teacher,
        is_teacher=True,
        audit_actor=f"{world.registration_id}:{teacher.sub}",
    )


def _student(session: Session, world: World, person_id: int) -> Caller:
    student = session.get_one(Person, person_id)
    return Caller(
        world.registration_id, student, audit_actor=f"{world.registration_id}:{student.sub}"
    )


def build(app: Flask, name: str, students: int, items: int) -> World:
    """A course of ``students`` active students (16 or older) and ``items`` G3 items, every
    student asked on every item."""
    db: Database = app.extensions["lti_tool"].db
    with db.transaction() as session:
        registration_id = _registration(session)
        course = Course(registration_id=registration_id, context_id=name, title=name)
        teacher = Person(registration_id=registration_id, sub=f"{name}-teacher", name="Tess")
        people = [
            Person(registration_id=registration_id, sub=f"{name}-s{i:03}", name=f"Student {i:03}")
            for i in range(students)
        ]
        session.add_all([course, teacher, *people])
        session.flush()
        session.add(Membership(course_id=course.id, person_id=teacher.id, roles=["teacher"]))
        session.add_all(
            Membership(course_id=course.id, person_id=p.id, roles=["student"], active=True)
            for p in people
        )
        session.flush()
        world = World(registration_id, course.id, teacher.id, [p.id for p in people], [])
        ctx = _ctx(app, session, registration_id)
        for n in range(items):
            setup = Setup(
                title=f"{name} video {n}",
                facts=Facts.parse(G3_FACTS, TODAY),
                scope=AudienceScope.COURSE,
                group_ids=frozenset(),
                person_ids=frozenset(),
                confirmed=frozenset({"G3.1", "G3.2", "G3.3"}),
            )
            item = create_item(
                session, course, teacher, setup, ctx.institution, actor=f"{name}-teacher"
            )
            operations.ask(
                session, item, ctx, _teacher(session, world), person_ids=world.student_ids
            )
            world.item_ids.append(item.id)
    return world


def planned(i: int, j: int) -> str | None:
    """What student ``i`` answers on item ``j``: one in ten yes, one in ten no, the rest
    nothing yet."""
    return {0: "yes", 1: "no"}.get((i + j) % 10)


def answer_as_planned(app: Flask, world: World) -> list[int]:
    """Every planned answer (one transaction per item), then on each item the first student
    who said yes withdraws. Returns the withdrawing student (index) per item."""
    db: Database = app.extensions["lti_tool"].db
    withdrawn = []
    for j, item_id in enumerate(world.item_ids):
        with db.transaction() as session:
            ctx = _ctx(app, session, world.registration_id)
            requests = {
                r.person_id: r
                for r in session.scalars(
                    select(ConsentRequest).where(ConsentRequest.item_id == item_id)
                )
            }
            for i, person_id in enumerate(world.student_ids):
                if (answer := planned(i, j)) is not None:
                    req = requests[person_id]
                    caller = _student(session, world, person_id)
                    operations.answer(session, req, caller, ctx, answer, req.text_en)
            first = next(i for i in range(len(world.student_ids)) if planned(i, j) == "yes")
            person_id = world.student_ids[first]
            operations.withdraw(
                session, requests[person_id], _student(session, world, person_id), ctx
            )
            withdrawn.append(first)
    return withdrawn


def expected_counts(world: World, j: int) -> Counter[str]:
    """The states on item ``j`` after ``answer_as_planned``: one "yes" became a withdrawal."""
    states = {"yes": "given", "no": "refused", None: "pending"}
    found = Counter(states[planned(i, j)] for i in range(len(world.student_ids)))
    found["given"] -= 1
    found["withdrawn"] += 1
    return found


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database meanwhile."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _course_consent(db: Database, world: World) -> tuple[queries.CourseConsent, list[str]]:
    with db.transaction() as session, counting(db.engine) as statements:
        found = queries.course_consent(session, world.course_id)
    return found, statements


def _item_consent(db: Database, item_id: int) -> tuple[queries.ItemConsent, list[str]]:
    with db.transaction() as session:
        item = session.get_one(Item, item_id)
        with counting(db.engine) as statements:
            found = queries.item_consent(session, item, TODAY)
    return found, statements


# --- overviews: no N+1 ------------------------------------------------------------------------


def test_overviews_cost_the_same_statements_for_30_and_for_6000_requests(
    app: Flask, db: Database
) -> None:
    small = build(app, "small", students=30, items=2)
    large = build(app, "large", students=300, items=20)
    answer_as_planned(app, small)
    withdrawn = answer_as_planned(app, large)

    small_course, small_statements = _course_consent(db, small)
    large_course, large_statements = _course_consent(db, large)
    for world, found in ((small, small_course), (large, large_course)):
        assert set(found.counts) == set(world.item_ids)
        for j, item_id in enumerate(world.item_ids):
            assert found.counts[item_id] == expected_counts(world, j), item_id
        assert found.objections == {}
    assert sum(sum(c.values()) for c in large_course.counts.values()) == 6000
    assert len(large_statements) == len(small_statements), (small_statements, large_statements)
    assert len(large_statements) <= 6, large_statements

    small_item, small_item_statements = _item_consent(db, small.item_ids[1])
    large_item, large_item_statements = _item_consent(db, large.item_ids[1])
    assert len(large_item.rows) == 300
    assert large_item.counts == expected_counts(large, 1)
    assert [row.name for row in large_item.rows] == sorted(row.name for row in large_item.rows)
    withdrew = next(r for r in large_item.rows if r.name == f"Student {withdrawn[1]:03}")
    assert withdrew.state == "withdrawn"
    assert withdrew.plan is not None and large_item.plans == [withdrew.plan]
    assert len(small_item.rows) == 30
    assert len(large_item_statements) == len(small_item_statements), (
        small_item_statements,
        large_item_statements,
    )
    assert len(large_item_statements) <= 10, large_item_statements


# --- concurrency ------------------------------------------------------------------------------


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine of its own for many threads (PostgreSQL allows 100 connections)."""
    found = create_engine(database_url, pool_size=40, max_overflow=0, pool_timeout=120)
    yield found
    found.dispose()


def _in_threads(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(n)`` for n in range(count), each in its own thread, released together;
    returns the results by n (fails if any thread raised)."""
    barrier = threading.Barrier(count, timeout=60)
    results: dict[int, T] = {}
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results[n] = work(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, f"{len(errors)} of {count} threads failed: {errors[:3]!r}"
    return [results[n] for n in range(count)]


def _answer_in_own_transaction(
    app: Flask, sessions: sessionmaker[Session], world: World, request_id: int, answer: str
) -> tuple[int, str]:
    with sessions() as session, session.begin():
        req = session.get_one(ConsentRequest, request_id)
        assert req.person_id is not None
        caller = _student(session, world, req.person_id)
        record = operations.answer(
            session, req, caller, _ctx(app, session, world.registration_id), answer, req.text_en
        )
        return record.seq, answer


@pytest.mark.postgres_only
@pytest.mark.usefixtures("pg_only")
def test_200_concurrent_answers_are_all_recorded_in_one_chain(
    app: Flask, db: Database, engine: Engine
) -> None:
    world = build(app, "busy", students=200, items=1)
    with db.transaction() as session:
        request_ids = list(
            session.scalars(select(ConsentRequest.id).order_by(ConsentRequest.person_id))
        )
    sessions = sessionmaker(engine, expire_on_commit=False)

    results = _in_threads(
        200, lambda n: _answer_in_own_transaction(app, sessions, world, request_ids[n], "yes")
    )

    seqs = sorted(seq for seq, _ in results)
    assert seqs == list(range(201, 401))  # after the 200 "asked" records, no gap, no repeat
    with db.transaction() as session:
        kinds = Counter(session.scalars(select(LedgerRecord.kind)))
        assert kinds == {LedgerKind.ASKED: 200, LedgerKind.ANSWERED: 200}
        assert session.scalars(select(LedgerRecord.seq).order_by(LedgerRecord.seq)).all() == list(
            range(1, 401)
        )
        answered = session.scalar(select(func.count()).where(AuditEvent.kind == "consent.answered"))
        assert answered == 200
        found = statuses(session, select(ConsentRequest.id))
        assert {s.state for s in found.values()} == {RequestState.GIVEN}
        assert len(found) == 200
        # the last answer saw every other one: everybody consented, so it is published
        assert session.get_one(Item, world.item_ids[0]).state is ItemState.READY
    with db.engine.connect() as conn:
        assert ledger.verify(conn) == ledger.Verdict(records=400)


def _check_later_answer_wins(db: Database, world: World, request_id: int, later: str) -> None:
    with db.transaction() as session:
        status = statuses(session, select(ConsentRequest.id))[request_id]
        item = session.get_one(Item, world.item_ids[0])
        assert status.record is not None
        assert status.record.answer == later
        wanted = ItemState.READY if later == "yes" else ItemState.AWAITING_CONSENT
        assert (status.state, item.state) == (
            RequestState.GIVEN if later == "yes" else RequestState.REFUSED,
            wanted,
        ), f"the later answer was {later!r}"
    with db.engine.connect() as conn:
        assert ledger.verify(conn).ok


@pytest.mark.postgres_only
@pytest.mark.usefixtures("pg_only")
@pytest.mark.parametrize("round_", range(5))
def test_racing_double_submission_the_later_record_wins(
    app: Flask, db: Database, engine: Engine, round_: int
) -> None:
    world = build(app, f"double{round_}", students=1, items=1)
    with db.transaction() as session:
        request_id = session.scalars(select(ConsentRequest.id)).one()
    sessions = sessionmaker(engine, expire_on_commit=False)
    answers = ("yes", "no") if round_ % 2 else ("no", "yes")

    results = _in_threads(
        2, lambda n: _answer_in_own_transaction(app, sessions, world, request_id, answers[n])
    )

    (_, later), (_, earlier) = sorted(results, reverse=True)
    assert {later, earlier} == {"yes", "no"}
    _check_later_answer_wins(db, world, request_id, later)


@pytest.mark.parametrize("first", ["yes", "no"])
def test_double_submission_interleaved_the_later_record_wins(
    app: Flask, db: Database, first: str
) -> None:
    """The same race without threads, in its worst interleaving: the second request loaded the
    request and its item before the first one committed, and answers after it."""
    world = build(app, f"interleaved-{first}", students=1, items=1)
    later = "no" if first == "yes" else "yes"
    second = db.sessions()
    try:
        req = second.scalars(select(ConsentRequest)).one()
        item = second.get_one(Item, req.item_id)  # the page the second request served
        assert item.state is ItemState.AWAITING_CONSENT
        with db.transaction() as session:
            other = session.get_one(ConsentRequest, req.id)
            caller = _student(session, world, world.student_ids[0])
            ctx = _ctx(app, session, world.registration_id)
            operations.answer(session, other, caller, ctx, first, other.text_en)
        caller = _student(second, world, world.student_ids[0])
        ctx = _ctx(app, second, world.registration_id)
        operations.answer(second, req, caller, ctx, later, req.text_en)
        second.commit()
    finally:
        second.close()
    _check_later_answer_wins(db, world, req.id, later)


@pytest.mark.postgres_only
@pytest.mark.usefixtures("pg_only")
def test_a_cancellation_racing_the_last_consent_stays_cancelled(
    app: Flask, db: Database, engine: Engine
) -> None:
    """The teacher cancels the item while its last consent comes in: the answer's publication
    check must not overwrite the cancellation with "ready". Worst interleaving, no timing: the
    answer reads the item (uncommitted cancellation invisible) and is about to write or lock
    it when the cancellation commits."""
    world = build(app, "cancelled", students=1, items=1)
    with db.transaction() as session:
        request_id = session.scalars(select(ConsentRequest.id)).one()
    sessions = sessionmaker(engine, expire_on_commit=False)
    touching_item = threading.Event()

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = " ".join(statement.split())
        if text.startswith("UPDATE items ") or (
            " FROM items " in text and text.endswith("FOR UPDATE")
        ):
            touching_item.set()

    cancelling = db.sessions()
    event.listen(engine, "before_cursor_execute", watch)
    try:
        cancel_item(cancelling, cancelling.get_one(Item, world.item_ids[0]), actor="teacher")
        cancelling.flush()  # the row is changed (and locked), not yet committed
        answered: list[object] = []
        thread = threading.Thread(
            target=lambda: answered.append(
                _answer_in_own_transaction(app, sessions, world, request_id, "yes")
            )
        )
        thread.start()
        assert touching_item.wait(60), "the answer never came to the item's state"
        cancelling.commit()
        thread.join(60)
        assert not thread.is_alive()
    finally:
        event.remove(engine, "before_cursor_execute", watch)
        cancelling.close()
    assert len(answered) == 1, "the answer failed"
    with db.transaction() as session:
        assert session.get_one(Item, world.item_ids[0]).state is ItemState.CANCELLED


def test_a_course_with_more_requests_than_bound_parameters_allowed_still_shows(
    app: Flask, db: Database
) -> None:
    """70,000 answered requests (beyond PostgreSQL's 65,535 and SQLite's 32,766 parameters per
    statement): the overviews count them all; nothing passes ids as a list of parameters."""
    world = build(app, "huge", students=1, items=1)
    item_id = world.item_ids[0]
    size = 70_000
    with db.transaction() as session:
        first = session.scalar(select(func.max(LedgerRecord.seq))) or 0
        template = session.scalars(
            select(ConsentRequest).where(ConsentRequest.item_id == item_id)
        ).one()
        session.execute(
            insert(ConsentRequest),
            [
                {
                    "item_id": item_id,
                    "guest_name": f"Guest {n}",
                    "text_en": template.text_en,
                    "text_nl": template.text_nl,
                    "asked_by": template.asked_by,
                }
                for n in range(size)
            ],
        )
        ids = session.scalars(
            select(ConsentRequest.id).where(ConsentRequest.guest_name.is_not(None))
        ).all()
        session.execute(
            insert(LedgerRecord),
            [
                {
                    "seq": first + n + 1,
                    "prev_hash": "0" * 64,
                    "hash": f"{n:064x}",
                    "recorded_at": dt.datetime(2027, 3, 15, tzinfo=dt.UTC),
                    "kind": LedgerKind.ANSWERED,
                    "registration_id": world.registration_id,
                    "course_id": world.course_id,
                    "item_ids": [item_id],
                    "request_id": request_id,
                    "subject": f"guest:{request_id}",
                    "actor": f"guest:{request_id}",
                    "answered_by": "self",
                    "method": "signed-link",
                    "answer": "yes" if n % 2 else "no",
                    "pack_version": "test",
                    "purpose": "wider-audience",
                    "audience": "institution",
                    "details": {},
                }
                for n, request_id in enumerate(ids)
            ],
        )
    with db.transaction() as session:
        course = queries.course_consent(session, world.course_id)
        item = queries.item_consent(session, session.get(Item, item_id), TODAY)
    assert course.counts[item_id] == Counter(given=size // 2, refused=size // 2, pending=1)
    assert item.counts == course.counts[item_id]
    assert len(item.rows) == size + 1
