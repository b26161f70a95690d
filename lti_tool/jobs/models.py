"""One background job: what to do (kind + JSON payload), when, how often it was tried."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, UTCDateTime, str_enum, utcnow


class JobState(enum.StrEnum):
    QUEUED = "queued"  # waits for run_after
    RUNNING = "running"  # claimed by a runner (reclaimed when its lease runs out)
    DONE = "done"
    FAILED = "failed"  # gave up after max_attempts; last_error says why


class Job(Base):
    """A unit of background work; handlers are registered by kind (``queue.handler``)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_run_after", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), comment="handler name, e.g. recordings.process")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, comment="the handler's arguments")
    state: Mapped[JobState] = mapped_column(str_enum(JobState), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0, comment="how often it was started")
    max_attempts: Mapped[int] = mapped_column(default=3)
    run_after: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, comment="not started before this time"
    )
    locked_until: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="a running job's lease; after it another runner may take it again"
    )
    last_error: Mapped[str | None] = mapped_column(Text, comment="why the last attempt failed")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
