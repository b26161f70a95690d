"""The append-only audit log. Database triggers refuse UPDATE and DELETE on it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """Something that happened: who did what to which course/item, when, under which pack."""

    __tablename__ = "audit_events"
    # The audit log search pages newest first by (at, id) within each filter (keyset
    # pagination); one index per filter it starts from keeps a page fast on millions of rows.
    __table_args__ = (
        Index("ix_audit_events_course_kind_at", "course_id", "kind", "at", "id"),
        Index("ix_audit_events_actor_at", "actor", "at", "id"),
        Index("ix_audit_events_subject_at", "subject", "at", "id"),
        Index("ix_audit_events_registration_at", "registration_id", "at", "id"),
        Index("ix_audit_events_kind_at", "kind", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True, comment="e.g. launch.refused")
    actor: Mapped[str] = mapped_column(
        String(255), default="system", comment="'system', 'cli' or 'registration_id:sub'"
    )
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL")
    )
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str | None] = mapped_column(
        String(255), comment="what it concerns, e.g. item:12"
    )
    pack_version: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, comment="details, never secrets"
    )
