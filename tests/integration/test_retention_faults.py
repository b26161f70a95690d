"""Faults on PostgreSQL: sweepers together, a sweeper killed mid-run, the database connection
cut mid-sweep. Every due item ends deleted exactly once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from lti_tool.audit.models import AuditEvent
from lti_tool.db import Database, utcnow
from lti_tool.deletion.models import Deletion, DeletionState
from lti_tool.deletion.operations import sweep
from lti_tool.deletion.queries import verify
from lti_tool.items.models import Item, ItemState
from tests.support.deletion import FakeStorage, item_values, world

DAY = dt.date(2027, 8, 1)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def any_db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.engine.dispose()


@pytest.fixture
def db(database_url: str, db_kind: str) -> Iterator[Database]:
    if db_kind != "postgresql":
        pytest.skip("killed processes and connections: the PostgreSQL deployment")
    database = Database(database_url)
    yield database
    database.engine.dispose()


def _due_items(db: Database, n: int) -> list[int]:
    w = world(db)
    with db.transaction() as session:
        session.execute(
            Item.__table__.insert(),
            [item_values(w, title=f"item {k}", delete_on=dt.date(2027, 7, 31)) for k in range(n)],
        )
        return list(session.scalars(select(Item.id).order_by(Item.id)))


def _all_deleted_once(db: Database, ids: list[int]) -> None:
    with db.transaction() as session:
        states = Counter(session.scalars(select(Item.state).where(Item.id.in_(ids))))
        assert states == {ItemState.DELETED: len(ids)}
        done = session.scalar(
            select(func.count()).select_from(Deletion).where(Deletion.state == DeletionState.DONE)
        )
        assert done == len(ids)
        events = Counter(
            session.scalars(select(AuditEvent.subject).where(AuditEvent.kind == "item.deleted"))
        )
        assert events == {f"item:{i}": 1 for i in ids}
        assert verify(session, DAY + dt.timedelta(days=1), utcnow()) == []


def test_two_sweepers_together_delete_each_item_exactly_once(
    any_db: Database, db_kind: str
) -> None:
    """PostgreSQL: row locks let both work at once; SQLite: a file lock lets one at a time."""
    db = any_db
    ids = _due_items(db, 300)
    storage = FakeStorage(files=set(ids))
    erasers = [("media", storage.erase)]
    results = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        results.append(sweep(db, DAY, grace_days=30, erasers=erasers))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(r.deleted for r in results) == len(ids)
    if db_kind == "postgresql":
        assert all(r.deleted > 0 for r in results), [r.deleted for r in results]  # both worked
    assert storage.calls == {i: 1 for i in ids}  # each provider delete called exactly once
    assert not storage.files
    _all_deleted_once(db, ids)


def _sweeper(database_url: str, media: Path, pause: float, *args: str) -> subprocess.Popen[str]:
    url = make_url(database_url).update_query_dict({"application_name": "fault-sweeper"})
    env = {
        **os.environ,
        "LTI_TOOL_DEV": "1",
        "LTI_TOOL_DATABASE_URL": url.render_as_string(hide_password=False),
        "LTI_TOOL_INSTANCE_PATH": str(media.parent / "instance"),
        "LTI_TOOL_SECRET_KEY": "test-secret-key-test-secret-key-0123456789",
        "LTI_TOOL_STREAM_MEDIA_DIRS": "",
    }
    command = [sys.executable, "-m", "tests.support.sweeper", str(media), str(pause), "--"]
    return subprocess.Popen(
        [*command, "retention", "sweep", "--today", DAY.isoformat(), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _media(tmp_path: Path, ids: list[int]) -> Path:
    media = tmp_path / "media"
    (media / "removed").mkdir(parents=True)
    for i in ids:
        (media / f"{i}.mp4").write_bytes(b"video")
    return media


def _removals(media: Path) -> Counter[int]:
    return Counter(int(p.name.split(".")[0]) for p in (media / "removed").glob("*"))


def _wait_for(media: Path, count: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while sum(_removals(media).values()) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_sweeper_killed_mid_run_leaves_nothing_deleted_twice(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    ids = _due_items(db, 60)
    media = _media(tmp_path, ids)
    first = _sweeper(database_url, media, 0.05)
    _wait_for(media, 10, first)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    with db.transaction() as session:
        left = session.scalar(
            select(func.count()).select_from(Item).where(Item.state != ItemState.DELETED)
        )
    assert 0 < left < len(ids)
    second = _sweeper(database_url, media, 0.0)
    _out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert _removals(media) == {i: 1 for i in ids}  # every file removed exactly once
    assert not list(media.glob("*.mp4"))
    _all_deleted_once(db, ids)


def test_storage_down_in_a_sweeper_process_is_reported_not_hidden(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    ids = _due_items(db, 3)
    media = _media(tmp_path, ids)
    (media / "DOWN").touch()
    proc = _sweeper(database_url, media, 0.0)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "0 deleted, 3 failed" in out and "media store down" in err
    with db.transaction() as session:
        assert set(session.scalars(select(Item.state))) == {ItemState.READY}
        assert set(session.scalars(select(Deletion.state))) == {DeletionState.FAILED}


def test_a_cut_database_connection_stops_the_sweep_cleanly_and_the_next_finishes(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    ids = _due_items(db, 40)
    media = _media(tmp_path, ids)
    proc = _sweeper(database_url, media, 0.05)
    _wait_for(media, 5, proc)
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'fault-sweeper' AND datname = current_database()"
            )
        ).scalar()
    admin.dispose()
    assert killed and killed > 0
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, (out, err)
    assert "sweep stopped: the database failed" in err and "run the sweep again" in err
    again = _sweeper(database_url, media, 0.0)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert _removals(media) == {i: 1 for i in ids}
    _all_deleted_once(db, ids)
