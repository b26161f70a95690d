"""The append-only audit log. Database triggers refuse UPDATE and DELETE on it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """Something that happened: who did what to which course/item, when, under which pack."""

    __tablename__ = "audit_events"

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
