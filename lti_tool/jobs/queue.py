"""The job queue: :func:`enqueue` inside the caller's transaction, :func:`run_pending` from a
worker (``lti-tool jobs run``, the demo, the retention worker).

Claiming takes one job per short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL (runners never wait for each other), a plain transaction on SQLite (one writer at a
time anyway). A claimed job holds a lease (``locked_until``); a runner that died loses it and
the job is taken again. A handler runs in its own transaction; an exception rolls its work
back and the job is retried later (``RETRY_SECONDS`` × attempts) until ``max_attempts``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.config import Settings
from lti_tool.db import is_sqlite_busy, utcnow
from lti_tool.jobs.models import Job, JobState

log = logging.getLogger("lti_tool.jobs")

RETRY_SECONDS = 30
LEASE_SECONDS = 2 * 3600
# Modules that register handlers (imported by run_pending, so a worker needs no other import).
HANDLER_MODULES = ("lti_tool.recordings.jobs",)


@dataclass(frozen=True)
class JobContext:
    """What a handler gets besides its payload."""

    settings: Settings
    job_id: int
    attempt: int
    last_attempt: bool


Handler = Callable[[Session, dict[str, Any], JobContext], None]
_HANDLERS: dict[str, Handler] = {}


class GiveUp(Exception):
    """Raised by a handler: do not retry (the handler has recorded the failure itself)."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the handler of jobs of ``kind``."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return register


def load_handlers() -> dict[str, Handler]:
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return _HANDLERS


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    run_after: dt.datetime | None = None,
    max_attempts: int = 3,
) -> Job:
    """Add a job to the caller's transaction (it runs once that commits)."""
    job = Job(
        kind=kind,
        payload=payload,
        state=JobState.QUEUED,
        run_after=run_after or utcnow(),
        max_attempts=max_attempts,
        attempts=0,
    )
    session.add(job)
    session.flush()
    return job


Claimed = tuple[int, str, dict[str, Any], int, int]  # id, kind, payload, attempt, max


def _claim(
    sessions: sessionmaker[Session], now: dt.datetime, lease: int = LEASE_SECONDS
) -> Claimed | None:
    with sessions() as session, session.begin():
        query = (
            select(Job)
            .where(
                or_(
                    (Job.state == JobState.QUEUED) & (Job.run_after <= now),
                    (Job.state == JobState.RUNNING) & (Job.locked_until < now),
                )
            )
            .order_by(Job.run_after, Job.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job = session.scalar(query)
        if job is None:
            return None
        job.state = JobState.RUNNING
        job.attempts += 1
        job.locked_until = now + dt.timedelta(seconds=lease)
        return job.id, job.kind, dict(job.payload), job.attempts, job.max_attempts


def _finish(
    sessions: sessionmaker[Session], job_id: int, state: JobState, error: str | None, retry: int
) -> None:
    with sessions() as session, session.begin():
        job = session.get(Job, job_id)
        if job is None:
            return
        job.state = state
        job.last_error = error
        job.locked_until = None
        if state is JobState.QUEUED:
            job.run_after = utcnow() + dt.timedelta(seconds=retry)
        else:
            job.finished_at = utcnow()


def run_one(sessions: sessionmaker[Session], settings: Settings) -> bool:
    """Claim and run one due job; False when none is due."""
    handlers = load_handlers()
    try:
        # a lease outlives the longest conversion, so a slow job is never taken twice
        lease = max(LEASE_SECONDS, settings.processing_timeout_seconds + 600)
        claimed = _claim(sessions, utcnow(), lease)
    except Exception as exc:
        if is_sqlite_busy(exc):
            return False
        raise
    if claimed is None:
        return False
    job_id, kind, payload, attempt, max_attempts = claimed
    fn = handlers.get(kind)
    if fn is None:
        _finish(sessions, job_id, JobState.FAILED, f"no handler for job kind {kind!r}", 0)
        return True
    context = JobContext(settings, job_id, attempt, attempt >= max_attempts)
    try:
        with sessions() as session, session.begin():
            fn(session, payload, context)
    except GiveUp as exc:
        _finish(sessions, job_id, JobState.FAILED, str(exc)[:2000], 0)
    except Exception as exc:
        log.exception("job %s (%s) failed, attempt %s of %s", job_id, kind, attempt, max_attempts)
        final = attempt >= max_attempts
        _finish(
            sessions,
            job_id,
            JobState.FAILED if final else JobState.QUEUED,
            f"{type(exc).__name__}: {exc}"[:2000],
            RETRY_SECONDS * attempt,
        )
    else:
        _finish(sessions, job_id, JobState.DONE, None, 0)
    return True


def run_pending(
    session_factory: sessionmaker[Session], limit: int = 10, *, settings: Settings | None = None
) -> int:
    """Run up to ``limit`` due jobs one after another; returns how many ran. ``settings``
    default to the environment's (``LTI_TOOL_*``)."""
    if settings is None:
        from lti_tool.config import load_settings

        settings = load_settings()
    ran = 0
    while ran < limit and run_one(session_factory, settings):
        ran += 1
    return ran
