"""Audit log search on PostgreSQL: a filtered page at 100,000 events and at 1,000,000.

The desk's search pages by keyset (``at``, ``id``) over the indexes of migration 0007, so a
page should cost about the same however long the log is. This builds a scratch database,
fills it with 100,000 events (2,000 people, 50 courses, 12 kinds, one event every 3 s),
times two searches — by person, and by course + kind prefix + two days — then grows
the same log to 1,000,000 events and times them again. People and courses stay the same, so
at 1M each person has 10x the events: the person search has 10x the matches to choose from.

    python bench/audit_search.py [--events 1000000] [--runs 200]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Prints the median time of a first page and of the first two pages (cursor) for each search
at both sizes — end to end (the tool's query code, driver and database) and inside the
database alone (EXPLAIN ANALYZE of the same statements) — and the ratio large/small (target:
close to 1; reading the whole log would make it 10).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, select, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lti_tool.access.models import Course, Person  # noqa: E402
from lti_tool.db import make_engine  # noqa: E402
from lti_tool.lti.registrations import add_registration  # noqa: E402
from lti_tool.privacy.queries import AuditFilter, audit_search  # noqa: E402

PEOPLE, COURSES = 2000, 50
KINDS = (
    "launch.ok",
    "consent.asked",
    "consent.answered",
    "consent.reminded",
    "consent.withdrawn",
    "consent.objected",
    "item.created",
    "item.published",
    "stream.started",
    "stream.ended",
    "privacy.request-received",
    "settings.changed",
)
START = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)
STEP_SECONDS = 3


@contextmanager
def scratch_database(database_url: str) -> Iterator[str]:
    """A new, migrated PostgreSQL database next to the one named; dropped afterwards."""
    from lti_tool.migrations import upgrade

    admin_url = make_url(database_url)
    name = f"bench_audit_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(engine: Engine) -> int:
    """One registration with its courses and people; returns the registration id."""
    with Session(engine) as session, session.begin():
        registration = add_registration(
            session,
            issuer="https://lms.bench.example",
            client_id="bench",
            auth_login_url="https://lms.bench.example/auth",
            auth_token_url="https://lms.bench.example/token",
            jwks_url="https://lms.bench.example/jwks",
            https_only=True,
        )
        session.add_all(
            Course(registration_id=registration.id, context_id=f"c{i}", title=f"Course {i}")
            for i in range(1, COURSES + 1)
        )
        session.add_all(
            Person(registration_id=registration.id, sub=f"user-{i}", name=f"Person {i}")
            for i in range(1, PEOPLE + 1)
        )
        session.flush()
        return registration.id


def fill(engine: Engine, registration_id: int, first: int, last: int) -> float:
    """Insert events ``first``..``last`` (one statement); returns seconds (with ANALYZE)."""
    kinds = "ARRAY[" + ",".join(f"'{k}'" for k in KINDS) + "]"
    started = time.perf_counter()
    with engine.begin() as conn:
        first_course = conn.execute(text("SELECT min(id) FROM courses")).scalar_one()
        first_person = conn.execute(text("SELECT min(id) FROM people")).scalar_one()
        conn.execute(
            text(
                f"""
                INSERT INTO audit_events
                    (at, kind, actor, registration_id, course_id, subject, pack_version, data)
                SELECT :start + (i * interval '{STEP_SECONDS} seconds'),
                       ({kinds})[1 + (i % {len(KINDS)})],
                       :actor_prefix || (1 + (i * 7919) % {PEOPLE}),
                       CASE WHEN i % 5 = 0 THEN CAST(:reg AS integer) ELSE NULL END,
                       CAST(:course0 AS integer) + (i % {COURSES}),
                       CASE WHEN i % 3 = 0
                            THEN 'person:'
                                 || (CAST(:person0 AS integer) + (i * 104729) % {PEOPLE})
                            ELSE 'item:' || (1 + i % 20000) END,
                       '2020.10-1',
                       '{{"n": 1}}'
                FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS i
                """
            ),
            {
                "start": START,
                "reg": registration_id,
                "actor_prefix": f"{registration_id}:user-",
                "course0": first_course,
                "person0": first_person,
                "first": first,
                "last": last,
            },
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE audit_events"))
    return time.perf_counter() - started


class Statements:
    """The audit_events SELECTs the search sends (to time them inside the database too)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sent: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute", self._grab)

    def _grab(self, conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "audit_events" in statement:
            self.sent.append((statement, params))

    def database_ms(self) -> float:
        """Sum of EXPLAIN ANALYZE execution times of the statements sent since the last call."""
        sent, self.sent = self.sent, []
        total = 0.0
        with self.engine.connect() as conn:
            for statement, params in sent:
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params)
                total += float(plan.scalar_one()[0]["Execution Time"])
        self.sent = []
        return total


def timed(call: Callable[[], object], runs: int, statements: Statements) -> tuple[float, float]:
    """Median milliseconds of ``call`` over ``runs`` (after one warm-up): end to end (the
    tool's code, the driver and the database), and inside the database alone."""
    call()
    statements.database_ms()
    samples, inside = [], []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
        inside.append(statements.database_ms())
    return statistics.median(samples), statistics.median(inside)


def measure(
    engine: Engine, registration_id: int, events: int, runs: int
) -> dict[str, tuple[float, float]]:
    """Median times of the two searches (first page, next page) at the log's current size."""
    end = START + dt.timedelta(seconds=STEP_SECONDS * events)
    # two days just before the newest: the same number of matches at either size
    week_until = max((end - dt.timedelta(days=1)).date(), START.date())
    week_since = max(week_until - dt.timedelta(days=1), START.date())
    results: dict[str, tuple[float, float]] = {}
    statements = Statements(engine)
    with Session(engine) as session:
        people = list(session.scalars(select(Person).order_by(Person.id).limit(runs)))
        courses = list(session.scalars(select(Course.id).order_by(Course.id)))
        state = {"n": 0}

        def by_person(second_page: bool) -> Callable[[], object]:
            def run() -> object:
                state["n"] += 1
                session.expunge_all()  # each request of the desk has a fresh session
                f = AuditFilter(person=people[state["n"] % len(people)])
                page = audit_search(session, registration_id, f)
                if second_page and page.next_cursor:
                    events_ = page.events[-1]
                    f = AuditFilter(person=f.person, after=(events_.at, events_.id))
                    page = audit_search(session, registration_id, f)
                assert page.events, "no events found: the data does not match the search"
                return page

            return run

        def by_course(second_page: bool) -> Callable[[], object]:
            def run() -> object:
                state["n"] += 1
                session.expunge_all()
                f = AuditFilter(
                    course_id=courses[state["n"] % len(courses)],
                    kind="consent.",
                    since=week_since,
                    until=week_until,
                )
                page = audit_search(session, registration_id, f)
                if second_page and page.next_cursor:
                    last = page.events[-1]
                    f = AuditFilter(
                        course_id=f.course_id,
                        kind=f.kind,
                        since=f.since,
                        until=f.until,
                        after=(last.at, last.id),
                    )
                    page = audit_search(session, registration_id, f)
                assert page.events, "no events found: the data does not match the search"
                return page

            return run

        results["person, first page"] = timed(by_person(False), runs, statements)
        results["person, two pages"] = timed(by_person(True), runs, statements)
        results["course+kind+dates, first page"] = timed(by_course(False), runs, statements)
        results["course+kind+dates, two pages"] = timed(by_course(True), runs, statements)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LTI_TOOL_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    small = args.events // 10
    with scratch_database(args.database_url) as url:
        engine = make_engine(url)
        registration_id = seed(engine)
        seconds = fill(engine, registration_id, 1, small)
        print(f"filled {small:,} events in {seconds:.1f} s")
        at_small = measure(engine, registration_id, small, args.runs)
        seconds = fill(engine, registration_id, small + 1, args.events)
        print(f"grew to {args.events:,} events in {seconds:.1f} s")
        at_large = measure(engine, registration_id, args.events, args.runs)
        engine.dispose()
    for index, what in enumerate(("end to end", "inside the database (EXPLAIN ANALYZE)")):
        title = f"{what}, median of {args.runs}"
        print(f"\n{title:38} {small:>10,} {args.events:>12,}  ratio")
        for name in at_small:
            a, b = at_small[name][index], at_large[name][index]
            print(f"{name:38} {a:7.2f} ms {b:9.2f} ms  {b / a:5.2f}")


if __name__ == "__main__":
    main()
