"""The retention sweep: work grows with what is due, not with what is stored.

Builds 1,000,000 items of which 10,000 are due and 100,000 items of which 10,000 are due
(bulk COPY into a scratch PostgreSQL database each), then times selecting and deleting the due
items with ``lti-tool retention sweep``'s code (one item per transaction, a counting eraser).
Prints both times and their ratio (target <= 1.2). Then two sweepers start together on
10,000 due items: every item must be deleted exactly once (counted eraser calls), none missed.

    python bench/sweep.py [--stored 1000000] [--small 100000] [--due 10000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lti_tool.access.models import Course, Person  # noqa: E402
from lti_tool.db import Database, make_engine, utcnow  # noqa: E402
from lti_tool.deletion.models import Deletion, DeletionState  # noqa: E402
from lti_tool.deletion.operations import count_due, sweep  # noqa: E402
from lti_tool.institution.models import GuidelinePack  # noqa: E402
from lti_tool.items.models import Item  # noqa: E402
from lti_tool.lti.models import Registration  # noqa: E402
from lti_tool.migrations import upgrade  # noqa: E402

TODAY = dt.date(2027, 8, 1)
COLUMNS = [
    *("course_id", "creator_id", "title", "state", "made", "recognisable", "purpose"),
    *("audience", "teacher_location", "set_up_on", "rule", "outcome", "legal_basis"),
    *("visibility", "consent_from", "conditions", "retention_kind", "retention_rule"),
    *("decision", "pack_id", "confirmed", "confirmed_at", "confirmed_by_id"),
    *("audience_scope", "delete_on", "created_at", "updated_at"),
]
CHUNK = 1_000


@contextmanager
def scratch(database_url: str, name: str) -> Iterator[str]:
    admin = create_engine(make_url(database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fill(url: str, stored: int, due: int) -> None:
    """``stored`` items in 100 courses, ``due`` of them due on TODAY (spread over the year
    before), the rest due later (spread over the next three years)."""
    db = Database(url)
    with db.transaction() as session:
        registration = Registration(
            issuer="https://lms.example",
            client_id="c",
            auth_login_url="https://l/a",
            auth_token_url="https://l/t",
            jwks_url="https://l/j",
        )
        session.add(registration)
        session.flush()
        courses = [Course(registration_id=registration.id, context_id=f"c{n}") for n in range(100)]
        teacher = Person(registration_id=registration.id, sub="t")
        pack = GuidelinePack(digest="0" * 64, name="p", version="1", source="p", content="{}")
        session.add_all([*courses, teacher, pack])
        session.flush()
        course_ids, teacher_id, pack_id = [c.id for c in courses], teacher.id, pack.id
    now = utcnow()
    every = stored // due
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY items ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for n in range(stored):
                is_due = n % every == 0 and n // every < due
                delete_on = (
                    TODAY - dt.timedelta(days=n % 365)
                    if is_due
                    else TODAY + dt.timedelta(days=1 + n % 1000)
                )
                copy.write_row(
                    (
                        course_ids[n % 100],
                        teacher_id,
                        f"item {n}",
                        "ready",
                        "stream",
                        '["teacher","students"]',
                        "remote-lesson",
                        "class",
                        "school",
                        dt.date(2027, 3, 15),
                        "G2",
                        "allowed",
                        "legitimate-interest",
                        "class-group",
                        "[]",
                        "[]",
                        "delete-on",
                        "G2.5",
                        '{"pack_version":"1"}',
                        pack_id,
                        "[]",
                        now,
                        teacher_id,
                        "course",
                        delete_on,
                        now,
                        now,
                    )
                )
        raw.commit()
    finally:
        raw.close()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE items"))
    db.engine.dispose()


class CountingEraser:
    """A provider whose delete is counted per item (thread-safe)."""

    def __init__(self) -> None:
        self.calls: Counter[int] = Counter()
        self.lock = threading.Lock()

    def __call__(self, session: Session, item: Item) -> list[str]:
        with self.lock:
            self.calls[item.id] += 1
        return [f"bench://{item.id}: removed"]


def timed_sweeps(urls: dict[str, str], due: int) -> dict[str, dict[str, float]]:
    """Sweep the databases in turns of CHUNK items, so a busy machine slows both alike; the
    time per database is the sum of its turns."""
    dbs = {label: Database(url) for label, url in urls.items()}
    erasers = {label: CountingEraser() for label in urls}
    result = {label: {"select_s": 0.0, "seconds": 0.0, "deleted": 0} for label in urls}
    for label, db in dbs.items():
        started = time.perf_counter()
        with db.transaction() as session:
            assert count_due(session, TODAY, utcnow()) == due
        result[label]["select_s"] = time.perf_counter() - started
    for _turn in range(-(-due // CHUNK)):
        for label, db in dbs.items():
            started = time.perf_counter()
            summary = sweep(db, TODAY, grace_days=30, limit=CHUNK, erasers=[("b", erasers[label])])
            result[label]["seconds"] += time.perf_counter() - started
            result[label]["deleted"] += summary.deleted
    for label, db in dbs.items():
        assert result[label]["deleted"] == due, result
        assert set(erasers[label].calls.values()) == {1}
        db.engine.dispose()
    return result


def two_sweepers(url: str, due: int) -> dict[str, Any]:
    eraser = CountingEraser()
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run() -> None:
        db = Database(url)
        barrier.wait()
        results.append(sweep(db, TODAY, grace_days=30, erasers=[("bench", eraser)]).deleted)
        db.engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    db = Database(url)
    with db.transaction() as session:
        done = session.scalar(
            select(func.count()).select_from(Deletion).where(Deletion.state == DeletionState.DONE)
        )
    db.engine.dispose()
    twice = sum(1 for c in eraser.calls.values() if c > 1)
    return {
        "per_sweeper": results,
        "items_erased": len(eraser.calls),
        "erased_twice": twice,
        "missed": due - len(eraser.calls),
        "done_rows": done,
        "seconds": seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    pid = os.getpid()
    with (
        scratch(args.database_url, f"bench_sweep_large_{pid}") as large,
        scratch(args.database_url, f"bench_sweep_small_{pid}") as small,
    ):
        stored = {"large": args.stored, "small": args.small}
        built = {}
        for label, url in (("large", large), ("small", small)):
            started = time.perf_counter()
            fill(url, stored[label], args.due)
            built[label] = time.perf_counter() - started
        runs = timed_sweeps({"large": large, "small": small}, args.due)
    for label, r in runs.items():
        print(
            f"{stored[label]:>9,} items, {args.due:,} due: selected in"
            f" {r['select_s'] * 1000:.0f} ms, selected+deleted in {r['seconds']:.1f} s"
            f" ({args.due / r['seconds']:.0f} items/s; built in {built[label]:.0f} s)"
        )
    ratio = runs["large"]["seconds"] / runs["small"]["seconds"]
    print(
        f"ratio {args.stored:,} / {args.small:,} stored: {ratio:.2f} (target <= 1.2)"
        f" -> {'ok' if ratio <= 1.2 else 'TOO SLOW'}"
    )
    with scratch(args.database_url, f"bench_sweep_two_{os.getpid()}") as url:
        fill(url, args.due * 10, args.due)
        two = two_sweepers(url, args.due)
    ok = two["erased_twice"] == 0 and two["missed"] == 0 and two["done_rows"] == args.due
    print(
        f"two sweepers on {args.due:,} due: {two['per_sweeper']} deleted each in"
        f" {two['seconds']:.1f} s; erased twice {two['erased_twice']}, missed {two['missed']}"
        f" -> {'ok' if ok else 'FAILED'}"
    )
    print(json.dumps({"runs": runs, "ratio": ratio, "two_sweepers": two}, default=str))
    return 0 if ratio <= 1.2 and ok else 1


if __name__ == "__main__":
    sys.exit(main())
