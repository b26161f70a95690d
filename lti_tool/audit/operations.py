"""Writing audit events (never updating or deleting them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lti_tool.audit.models import AuditEvent


def record(
    session: Session,
    kind: str,
    *,
    actor: str = "system",
    registration_id: int | None = None,
    course_id: int | None = None,
    subject: str | None = None,
    pack_version: str | None = None,
    **data: Any,
) -> AuditEvent:
    """Append an audit event to the session (flushed, committed by the caller)."""
    event = AuditEvent(
        kind=kind,
        actor=actor,
        registration_id=registration_id,
        course_id=course_id,
        subject=subject,
        pack_version=pack_version,
        data=data,
    )
    session.add(event)
    session.flush()
    return event
