"""Access and erasure requests (GDPR arts. 15 and 17) and what was done per item.

A request names whom it is about (``subject``) and who asked (``requester``: the person
themself, a parent or guardian of a student under 16, or the privacy officer). It is recorded
when received and carried out at once; ``outcomes`` say, per item, what happened and why.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.access.models import Person
from lti_tool.db import Base, UTCDateTime, str_enum, utcnow


class RequestKind(enum.StrEnum):
    ACCESS = "access"  # art. 15: an export of everything that concerns the person
    ERASURE = "erasure"  # art. 17: erase what may be erased, say why the rest is kept


class RequestState(enum.StrEnum):
    RECEIVED = "received"
    CARRIED_OUT = "carried-out"


class Capacity(enum.StrEnum):
    """In what capacity the requester asked."""

    SELF = "self"
    GUARDIAN = "guardian"  # a parent or guardian of a student under 16 (role_scope_mentor)
    OFFICER = "officer"  # the privacy officer (administrator, or the command line)


class OutcomeKind(enum.StrEnum):
    """What an erasure request did to one item."""

    ERASED = "erased"  # consent withdrawn; deleted per the proportional plan (G3.2)
    ALREADY_PLANNED = "already-planned"  # consent was withdrawn before; its plan stands
    NO_CONSENT = "no-consent"  # asked but never consented: not published with the person in it
    KEPT_LEGAL_DUTY = "kept-legal-duty"  # a legal retention duty runs (G1, art. 17(3)(b))
    DELETED_AT_YEAR_END = "deleted-at-year-end"  # not stored beyond the school year (G2.5)
    NOT_ABOUT_PERSON = "not-about-person"  # the person is only in the audience


class PrivacyRequest(Base):
    """One access or erasure request about one person."""

    __tablename__ = "privacy_requests"
    __table_args__ = (
        CheckConstraint(
            "(state = 'carried-out') = (carried_out_at IS NOT NULL)", name="carried_out_has_date"
        ),
        CheckConstraint("capacity = 'officer' OR requester_id IS NOT NULL", name="requester_named"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RequestKind] = mapped_column(str_enum(RequestKind), comment="access or erasure")
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True, comment="whom it is about"
    )
    requester_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"),
        comment="who asked (NULL: the privacy officer on the command line)",
    )
    capacity: Mapped[Capacity] = mapped_column(
        str_enum(Capacity), comment="self, guardian (of an under-16) or officer"
    )
    requested_by: Mapped[str] = mapped_column(
        String(255), comment="audit actor: 'registration_id:sub' or 'cli'"
    )
    state: Mapped[RequestState] = mapped_column(str_enum(RequestState))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    carried_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    export_sha256: Mapped[str | None] = mapped_column(
        String(64), comment="access: sha256 of the JSON export handed out"
    )

    subject: Mapped[Person] = relationship(foreign_keys=[subject_id])
    requester: Mapped[Person | None] = relationship(foreign_keys=[requester_id])
    outcomes: Mapped[list[PrivacyOutcome]] = relationship(
        cascade="all, delete-orphan", order_by="PrivacyOutcome.id"
    )


class PrivacyOutcome(Base):
    """What an erasure request did to one item, with the reason shown to the requester.

    ``item_id`` is a plain id: the outcome outlives the item it names."""

    __tablename__ = "privacy_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("privacy_requests.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(Integer, comment="the item (plain id, no foreign key)")
    item_title: Mapped[str] = mapped_column(String(200))
    course_id: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(32), comment="the pack's rule id, e.g. G1")
    retention_rule: Mapped[str] = mapped_column(String(32), comment="e.g. G1.3, G2.5, G3.2")
    outcome: Mapped[OutcomeKind] = mapped_column(str_enum(OutcomeKind))
    until: Mapped[dt.date | None] = mapped_column(
        Date, comment="deleted (or reviewed) on this date"
    )
    reason: Mapped[str] = mapped_column(Text, comment="English source text, translated on display")
    deletion_plan_id: Mapped[int | None] = mapped_column(
        Integer, comment="the plan a withdrawal made (erased)"
    )
