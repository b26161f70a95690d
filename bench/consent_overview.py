"""The consent overviews of a large course: `course_consent` and `item_consent` times and
statement counts, against a plain count of the course's requests.

A course of 300 students and 20 G3 items, every student asked on every item (``ask``); about
half say yes, a fifth no, the rest are reminded. The first item is answered through
``operations.answer`` (timed: it re-checks the publication gate per answer); the others get
the same ledger records through ``ledger.append`` to keep the setup short. Each figure is the
median of ``--runs`` runs in a fresh session; the baseline is ``SELECT count(*)`` over the
course's consent requests, and the overviews are printed as multiples of it. On PostgreSQL the
tables are ANALYZEd after the setup, as autovacuum would (planner statistics).

    python bench/consent_overview.py [--runs 15]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ledger_verify import scratch_database  # also puts the project on sys.path
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from lti_tool import create_app
from lti_tool.access.models import Course, Membership, Person
from lti_tool.consent import ledger, operations, queries
from lti_tool.consent.models import AnsweredBy, ConsentRequest, LedgerKind, Method
from lti_tool.consent.operations import Caller, Context
from lti_tool.db import Database
from lti_tool.institution.queries import institution_for
from lti_tool.items.forms import Setup
from lti_tool.items.models import AudienceScope, Item
from lti_tool.items.operations import create_item
from lti_tool.lti.models import Registration
from lti_tool.policy import Facts

TODAY = dt.date(2027, 3, 15)
G3_FACTS = {
    "made": "recording",
    "recognisable": ["students"],
    "purpose": "wider-audience",
    "audience": "institution",
    "teacher_location": "school",
}


def planned(i: int, j: int) -> str | None:
    """Student ``i`` on item ``j``: yes (50 %), no (20 %) or no answer yet (30 %)."""
    r = (7 * i + j) % 10
    return "yes" if r < 5 else "no" if r < 7 else None


def build(db: Database, settings: Any, students: int, items: int) -> tuple[int, list[int]]:
    """The course, its people and items, everyone asked and answering as planned; prints
    what the setup's operations cost. Returns (course id, item ids)."""
    with db.transaction() as session:
        registration = Registration(
            issuer="https://lms.example",
            client_id="bench",
            auth_login_url="https://lms.example/auth",
            auth_token_url="https://lms.example/token",
            jwks_url="https://lms.example/jwks",
        )
        session.add(registration)
        session.flush()
        rid = registration.id
        course = Course(registration_id=rid, context_id="big", title="Big course")
        teacher = Person(registration_id=rid, sub="teacher", name="Tess")
        people = [
            Person(registration_id=rid, sub=f"s{i:03}", name=f"Student {i:03}")
            for i in range(students)
        ]
        session.add_all([course, teacher, *people])
        session.flush()
        session.add(Membership(course_id=course.id, person_id=teacher.id, roles=["teacher"]))
        session.add_all(
            Membership(course_id=course.id, person_id=p.id, roles=["student"]) for p in people
        )
        course_id, teacher_id = course.id, teacher.id
        person_ids = [p.id for p in people]

    item_ids, ask_ms, answer_ms = [], [], []
    for j in range(items):
        with db.transaction() as session:
            ctx = Context(institution_for(session, settings, rid), settings, TODAY)
            course = session.get_one(Course, course_id)
            teacher = session.get_one(Person, teacher_id)
            staff = Caller(rid, teacher, is_teacher=True, audit_actor=f"{rid}:teacher")
            setup = Setup(
                title=f"Video {j}",
                facts=Facts.parse(G3_FACTS, TODAY),
                scope=AudienceScope.COURSE,
                group_ids=frozenset(),
                person_ids=frozenset(),
                confirmed=frozenset({"G3.1", "G3.2", "G3.3"}),
            )
            item = create_item(session, course, teacher, setup, ctx.institution, actor="teacher")
            started = time.perf_counter()
            requests = operations.ask(session, item, ctx, staff, person_ids=person_ids)
            ask_ms.append((time.perf_counter() - started) * 1000)
            by_person = {r.person_id: r for r in requests}
            for i, person_id in enumerate(person_ids):
                answer = planned(i, j)
                if answer is None:
                    continue
                req = by_person[person_id]
                if j == 0:
                    student = session.get_one(Person, person_id)
                    caller = Caller(rid, student, audit_actor=f"{rid}:{student.sub}")
                    started = time.perf_counter()
                    operations.answer(session, req, caller, ctx, answer, req.text_en)
                    answer_ms.append((time.perf_counter() - started) * 1000)
                else:
                    ledger.append(session, _answered(item, req, answer))
            operations.remind(session, item, staff, ctx)
            item_ids.append(item.id)
    print(
        f"  setup: ask {students} students {statistics.median(ask_ms):.0f} ms per item; "
        f"operations.answer on a {students}-request item "
        f"{statistics.median(answer_ms):.1f} ms median ({len(answer_ms)} answers)"
    )
    return course_id, item_ids


def _answered(item: Item, req: ConsentRequest, answer: str) -> ledger.Entry:
    """The ledger record ``operations.answer`` appends for a student answering in the LMS."""
    return ledger.Entry(
        kind=LedgerKind.ANSWERED,
        registration_id=item.course.registration_id,
        course_id=item.course_id,
        item_ids=(item.id,),
        subject=req.subject,
        actor=req.subject,
        answered_by=AnsweredBy.SELF,
        method=Method.LMS,
        pack_version=str(item.decision.get("pack_version", "")),
        purpose=item.purpose.value,
        audience=item.audience.value,
        request_id=req.id,
        answer=answer,
        text_hash=req.text_en,
        details={"language": "en"},
    )


def timed(
    db: Database,
    runs: int,
    work: Callable[[Session, Any], object],
    prepare: Callable[[Session], Any] = lambda session: None,
) -> tuple[float, int]:
    """Median milliseconds of ``work(session, prepare(session))`` (each run in a fresh
    session, after one warm-up; ``prepare`` is not timed) and the statements one run sends."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    times = []
    for run in range(runs + 1):
        with db.transaction() as session:
            prepared = prepare(session)
            if run == 0:
                event.listen(db.engine, "before_cursor_execute", count)
            started = time.perf_counter()
            work(session, prepared)
            elapsed = time.perf_counter() - started
            if run == 0:
                event.remove(db.engine, "before_cursor_execute", count)
            else:
                times.append(elapsed * 1000)
    return statistics.median(times), len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (default: SQLite)")
    args = parser.parse_args()

    with scratch_database(args.database_url, "lti-bench-consent-") as url:
        instance = tempfile.mkdtemp(prefix="lti-bench-instance-")
        app = create_app(
            {
                "dev": True,
                "database_url": url,
                "instance_path": instance,
                "secret_key": "bench-secret-key-bench-secret-key-0123456789",
                "today": TODAY.isoformat(),
            },
            environ={},
        )
        db: Database = app.extensions["lti_tool"].db
        settings = app.extensions["lti_tool"].settings
        print(
            f"consent overview benchmark: db={url.split(':')[0]}, {args.students} students, "
            f"{args.items} items, {args.students * args.items:,} requests, median of {args.runs}"
        )
        started = time.perf_counter()
        course_id, item_ids = build(db, settings, args.students, args.items)
        print(f"  setup took {time.perf_counter() - started:.1f} s")
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:  # what autovacuum does after a bulk change
                conn.exec_driver_sql("ANALYZE")

        def baseline(session: Session, _: None) -> object:
            return session.scalar(
                select(func.count())
                .select_from(ConsentRequest)
                .join(Item, Item.id == ConsentRequest.item_id)
                .where(Item.course_id == course_id)
            )

        def course(session: Session, _: None) -> object:
            found = queries.course_consent(session, course_id)
            assert sum(sum(c.values()) for c in found.counts.values()) == len(item_ids) * (
                args.students
            )
            return found

        def one_item(session: Session, item: Item) -> object:
            found = queries.item_consent(session, item, TODAY)
            assert len(found.rows) == args.students
            return found

        base_ms, base_n = timed(db, args.runs, baseline)
        course_ms, course_n = timed(db, args.runs, course)
        item_ms, item_n = timed(
            db, args.runs, one_item, lambda session: session.get_one(Item, item_ids[1])
        )
        print(f"  {'baseline count(*)':<20}: {base_ms:8.2f} ms  {base_n:2d} statement(s)")
        print(
            f"  {'course_consent':<20}: {course_ms:8.2f} ms  {course_n:2d} statements  "
            f"{course_ms / base_ms:6.1f}x baseline"
        )
        label = f"item_consent ({args.students})"
        print(
            f"  {label:<20}: {item_ms:8.2f} ms  {item_n:2d} statements  "
            f"{item_ms / base_ms:6.1f}x baseline"
        )
        db.engine.dispose()


if __name__ == "__main__":
    main()
