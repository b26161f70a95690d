"""An item is one recording or live stream of a course with the decision that allows it.

States: ``planned`` (set up to happen later; reserved for scheduling by the streams and
recordings work), ``awaiting-consent`` (allowed once everyone asked has consented),
``ready`` (allowed), ``cancelled`` (called off by a teacher), ``deleted`` (its media and
leftovers erased by the retention sweep on its date; the row stays as evidence, see
``lti_tool.deletion``). A refused setup is never stored.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.access.models import Course, CourseGroup, Person
from lti_tool.db import Base, UTCDateTime, str_enum, utcnow
from lti_tool.institution.models import GuidelinePack
from lti_tool.policy import (
    Audience,
    LegalBasis,
    Made,
    Outcome,
    Purpose,
    RetentionKind,
    TeacherLocation,
    Visibility,
)


class ItemState(enum.StrEnum):
    PLANNED = "planned"
    AWAITING_CONSENT = "awaiting-consent"
    READY = "ready"
    CANCELLED = "cancelled"
    DELETED = "deleted"


class AudienceScope(enum.StrEnum):
    """Which part of the course roster the item is for."""

    COURSE = "course"
    SECTIONS = "sections"
    GROUPS = "groups"
    STUDENTS = "students"


class Item(Base):
    """A recording or live stream of a course, its facts and the decision that allows it."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("delete_on IS NOT NULL OR review_on IS NOT NULL", name="has_end_date"),
        CheckConstraint("outcome <> 'refused'", name="not_refused"),
        # The sweep's predicate: only items not yet deleted, so its work grows with what is
        # due, not with what is stored.
        Index(
            "ix_items_due",
            "delete_on",
            postgresql_where=text("state <> 'deleted'"),
            sqlite_where=text("state <> 'deleted'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id"), index=True, comment="items keep their course from deletion"
    )
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("people.id"), comment="the teacher who set it up"
    )
    title: Mapped[str] = mapped_column(String(200), comment="the teacher's name for it")
    state: Mapped[ItemState] = mapped_column(str_enum(ItemState), comment="see ItemState")

    made: Mapped[Made] = mapped_column(str_enum(Made), comment="fact: what is made")
    recognisable: Mapped[list[str]] = mapped_column(
        JSON, comment="fact: who can be recognised (teacher, students, guests)"
    )
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose), comment="fact: what it is for")
    audience: Mapped[Audience] = mapped_column(
        str_enum(Audience), comment="fact: who will see or hear it"
    )
    teacher_location: Mapped[TeacherLocation] = mapped_column(
        str_enum(TeacherLocation), comment="fact: where the teacher records or streams from"
    )
    set_up_on: Mapped[dt.date] = mapped_column(
        Date, comment="the date of the facts; decisions and retention count from it"
    )

    rule: Mapped[str] = mapped_column(String(32), comment="the pack's rule id, e.g. G2")
    decision_case: Mapped[str | None] = mapped_column(
        String(64), comment="the pack's decision case that matched"
    )
    outcome: Mapped[Outcome] = mapped_column(
        str_enum(Outcome), comment="allowed or consent-required (refusals are not stored)"
    )
    legal_basis: Mapped[LegalBasis] = mapped_column(
        str_enum(LegalBasis), comment="the GDPR ground of the rule"
    )
    visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility), comment="who may watch according to the rule"
    )
    consent_from: Mapped[list[str]] = mapped_column(JSON, comment="consenters the rule asks")
    conditions: Mapped[list[str]] = mapped_column(JSON, comment="condition ids to confirm")
    retention_kind: Mapped[RetentionKind] = mapped_column(
        str_enum(RetentionKind), comment="how its life ends: a date, a review, graduation, consent"
    )
    retention_rule: Mapped[str] = mapped_column(
        String(32), comment="condition id the retention comes from, e.g. G2.5"
    )
    decision: Mapped[dict[str, Any]] = mapped_column(
        JSON, comment="the whole decision with its reasons, as evaluate() returned it"
    )
    pack_id: Mapped[int] = mapped_column(
        ForeignKey("guideline_packs.id"), comment="the pack the decision was made under"
    )

    confirmed: Mapped[list[str]] = mapped_column(
        JSON, comment="condition ids the teacher confirmed"
    )
    confirmed_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, comment="when the conditions were last confirmed"
    )
    confirmed_by_id: Mapped[int] = mapped_column(
        ForeignKey("people.id"), comment="the teacher who confirmed the conditions"
    )

    audience_scope: Mapped[AudienceScope] = mapped_column(
        str_enum(AudienceScope), comment="course: everyone; otherwise see item_audience"
    )
    delete_on: Mapped[dt.date | None] = mapped_column(
        Date, index=True, comment="deleted on this date"
    )
    review_on: Mapped[dt.date | None] = mapped_column(
        Date, index=True, comment="reviewed on this date: kept only if still needed"
    )
    removed_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="removed from view after a consent withdrawal (G3.2); then deleted"
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship()
    pack: Mapped[GuidelinePack] = relationship()
    creator: Mapped[Person] = relationship(foreign_keys=[creator_id])
    audience_entries: Mapped[list[ItemAudience]] = relationship(
        cascade="all, delete-orphan", order_by="ItemAudience.id"
    )

    @property
    def subject(self) -> str:
        """How audit events name this item."""
        return f"item:{self.id}"


class ItemAudience(Base):
    """A section or group (scope sections/groups) or a student (scope students) of an item."""

    __tablename__ = "item_audience"
    __table_args__ = (
        CheckConstraint(
            "(group_id IS NOT NULL AND person_id IS NULL)"
            " OR (group_id IS NULL AND person_id IS NOT NULL)",
            name="group_or_person",
        ),
        UniqueConstraint("item_id", "group_id", name="uq_item_audience_item_id_group_id"),
        UniqueConstraint("item_id", "person_id", name="uq_item_audience_item_id_person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_groups.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )

    group: Mapped[CourseGroup | None] = relationship()
    person: Mapped[Person | None] = relationship()
