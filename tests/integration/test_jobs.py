"""The job queue on a real database: due jobs run once, failures are retried and then kept
as failed with their error, a dead runner's lease runs out, and on PostgreSQL two runners
never take the same job (SKIP LOCKED)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.config import load_settings
from lti_tool.db import make_engine, utcnow
from lti_tool.jobs import queue
from lti_tool.jobs.models import Job, JobState

CALLS: list[tuple[str, Any]] = []


@queue.handler("test.ok")
def _ok(session: Session, payload: dict[str, Any], ctx: queue.JobContext) -> None:
    CALLS.append(("ok", payload["n"]))


@queue.handler("test.boom")
def _boom(session: Session, payload: dict[str, Any], ctx: queue.JobContext) -> None:
    CALLS.append(("boom", ctx.attempt))
    raise RuntimeError("disk on fire")


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Any) -> Any:
    CALLS.clear()
    return load_settings({}, {"dev": True, "database_url": database_url})


def _add(sessions: sessionmaker[Session], kind: str, **kwargs: Any) -> int:
    with sessions() as session, session.begin():
        return queue.enqueue(session, kind, {"n": 1}, **kwargs).id


def _job(sessions: sessionmaker[Session], job_id: int) -> Job:
    with sessions() as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def test_due_jobs_run_once_and_future_ones_wait(
    sessions: sessionmaker[Session], settings: Any
) -> None:
    now_id = _add(sessions, "test.ok")
    later_id = _add(sessions, "test.ok", run_after=utcnow() + dt.timedelta(hours=1))
    assert queue.run_pending(sessions, 10, settings=settings) == 1
    assert queue.run_pending(sessions, 10, settings=settings) == 0
    assert CALLS == [("ok", 1)]
    assert _job(sessions, now_id).state is JobState.DONE
    assert _job(sessions, later_id).state is JobState.QUEUED


def test_failures_are_retried_later_then_kept_as_failed(
    sessions: sessionmaker[Session], settings: Any
) -> None:
    job_id = _add(sessions, "test.boom", max_attempts=2)
    assert queue.run_pending(sessions, 10, settings=settings) == 1
    first = _job(sessions, job_id)
    assert first.state is JobState.QUEUED and first.run_after > utcnow()
    assert "disk on fire" in (first.last_error or "")
    with sessions() as session, session.begin():
        session.execute(update(Job).values(run_after=utcnow()))
    assert queue.run_pending(sessions, 10, settings=settings) == 1
    final = _job(sessions, job_id)
    assert final.state is JobState.FAILED and final.attempts == 2 and final.finished_at
    assert CALLS == [("boom", 1), ("boom", 2)]


def test_an_unknown_kind_fails_at_once(sessions: sessionmaker[Session], settings: Any) -> None:
    job_id = _add(sessions, "test.nobody")
    queue.run_pending(sessions, 10, settings=settings)
    assert _job(sessions, job_id).state is JobState.FAILED


def test_a_dead_runners_job_is_taken_again_when_its_lease_ran_out(
    sessions: sessionmaker[Session], settings: Any
) -> None:
    job_id = _add(sessions, "test.ok")
    with sessions() as session, session.begin():
        session.execute(
            update(Job).values(
                state=JobState.RUNNING, locked_until=utcnow() + dt.timedelta(minutes=60)
            )
        )
    assert queue.run_pending(sessions, 10, settings=settings) == 0
    with sessions() as session, session.begin():
        session.execute(update(Job).values(locked_until=utcnow() - dt.timedelta(seconds=1)))
    assert queue.run_pending(sessions, 10, settings=settings) == 1
    assert _job(sessions, job_id).state is JobState.DONE


def test_two_runners_never_take_the_same_job(
    sessions: sessionmaker[Session], settings: Any, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time")
    first, second = _add(sessions, "test.ok"), _add(sessions, "test.ok")
    with sessions() as other, other.begin():
        locked = other.scalar(select(Job).where(Job.id == first).with_for_update())
        assert locked is not None
        claimed = queue._claim(sessions, utcnow())  # another runner, while job 1 is locked
        assert claimed is not None and claimed[0] == second


def test_the_cli_runs_due_jobs_once(database_url: str, settings: Any) -> None:
    from lti_tool.cli import main

    engine = make_engine(database_url)
    maker = sessionmaker(engine)
    with maker() as session, session.begin():  # a real kind: its upload is gone, nothing to do
        queue.enqueue(session, "recordings.expire_upload", {"upload_id": "gone"})
    engine.dispose()
    env = {"LTI_TOOL_DEV": "1", "LTI_TOOL_DATABASE_URL": database_url}
    result = CliRunner().invoke(main, ["jobs", "run", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "ran 1 job(s)" in result.output
    listed = CliRunner().invoke(main, ["jobs", "list", "--json"], env=env)
    assert '"state": "done"' in listed.output
