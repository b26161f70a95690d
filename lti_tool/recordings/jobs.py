"""Job handlers of recordings (registered with the job queue when it loads them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lti_tool.jobs.queue import JobContext, handler
from lti_tool.recordings import operations


@handler(operations.PROCESS_JOB)
def process(session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
    operations.process(
        session,
        int(payload["recording_id"]),
        str(payload["upload_id"]),
        ctx.settings,
        last_attempt=ctx.last_attempt,
    )


@handler(operations.EXPIRE_JOB)
def expire_upload(session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
    operations.expire_upload(session, str(payload["upload_id"]), ctx.settings)
