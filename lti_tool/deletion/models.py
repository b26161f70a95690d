"""One row per item the sweep has started to delete: its state, attempts and what was removed.

States: ``marked`` (claimed and hidden; erasers may have run partly), ``provider-deleted``
(every eraser succeeded; ``removed`` lists what went where), ``done`` (the item is in state
``deleted`` and the deletion is audited), ``failed`` (an eraser failed; retried from
``next_attempt_at`` with back-off, ``last_error`` says why). After a crash an item in
``marked`` runs its (idempotent) erasers again; one in ``provider-deleted`` is only finished.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, str_enum, utcnow
from lti_tool.items.models import Item


class DeletionState(enum.StrEnum):
    MARKED = "marked"
    PROVIDER_DELETED = "provider-deleted"
    DONE = "done"
    FAILED = "failed"


class Deletion(Base):
    """The deletion of one item (its row stays: the item row stays too, as evidence)."""

    __tablename__ = "deletions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id"), unique=True, comment="one deletion per item"
    )
    course_id: Mapped[int] = mapped_column(Integer, index=True, comment="the item's course")
    rule: Mapped[str] = mapped_column(String(32), comment="the item's rule, e.g. G2")
    retention_rule: Mapped[str] = mapped_column(
        String(32), comment="the condition the date comes from, e.g. G2.5, or G3.2 (withdrawal)"
    )
    due_on: Mapped[dt.date] = mapped_column(Date, comment="the item's delete_on when claimed")
    state: Mapped[DeletionState] = mapped_column(str_enum(DeletionState), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, comment="eraser runs started")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, index=True, comment="failed: not tried again before this moment"
    )
    last_error: Mapped[str | None] = mapped_column(Text, comment="why the last attempt failed")
    removed: Mapped[list[str]] = mapped_column(
        JSON, default=list, comment="what was removed where, one line per thing"
    )
    marked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    provider_deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    item: Mapped[Item] = relationship()
