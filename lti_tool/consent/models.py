"""Consent: who is asked about which item (requests), the texts they were shown, signed links
for people without an LMS account, scans of paper consent, the hash-chained ledger of
everything that happened, and the deletion plans withdrawals create.

The ledger is the record: a request's current state is derived from its newest ledger record
(see :mod:`lti_tool.consent.state`). Ledger rows carry plain ids, no foreign keys, because the
ledger outlives the items, requests and people it names.
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
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.access.models import Person
from lti_tool.db import Base, UTCDateTime, str_enum, utcnow
from lti_tool.retention.plans import PlanAction


class LedgerKind(enum.StrEnum):
    """What a ledger record says happened."""

    ASKED = "asked"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"
    CONFIRMED = "confirmed"  # a student who turned 16 confirms a parent's consent
    UNRECOGNISABLE = "unrecognisable"  # the teacher made the person unrecognisable
    REMINDED = "reminded"
    OBJECTED = "objected"
    OBJECTION_WITHDRAWN = "objection-withdrawn"


class Method(enum.StrEnum):
    """How an answer reached the tool."""

    LMS = "lms"  # in a launch from the course
    LINK = "signed-link"  # a signed link, no LMS account needed
    PAPER = "paper"  # recorded by staff with an uploaded scan
    TOOL = "tool"  # done by the tool or a teacher's action (asking, reminding)


class AnsweredBy(enum.StrEnum):
    """In what capacity the answer was given."""

    SELF = "self"
    GUARDIAN = "guardian"
    STAFF = "staff"


class ConsentRequest(Base):
    """One person (a course member or a guest) asked to consent to one item."""

    __tablename__ = "consent_requests"
    __table_args__ = (
        CheckConstraint(
            "(person_id IS NOT NULL AND guest_name IS NULL)"
            " OR (person_id IS NULL AND guest_name IS NOT NULL)",
            name="person_or_guest",
        ),
        UniqueConstraint("item_id", "person_id", name="uq_consent_requests_item_id_person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True, comment="a course member"
    )
    guest_name: Mapped[str | None] = mapped_column(String(200), comment="a guest, by name")
    guest_email: Mapped[str | None] = mapped_column(String(255))
    text_en: Mapped[str] = mapped_column(String(64), comment="hash of the English request text")
    text_nl: Mapped[str] = mapped_column(String(64), comment="hash of the Dutch request text")
    asked_by: Mapped[str] = mapped_column(String(255), comment="'registration_id:sub' of staff")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person | None] = relationship()

    @property
    def subject(self) -> str:
        """How the ledger names whom the request is about."""
        return f"person:{self.person_id}" if self.person_id else f"guest:{self.id}"

    def text_hash(self, locale: str) -> str:
        return self.text_nl if locale == "nl" else self.text_en


class ConsentText(Base):
    """A request text exactly as shown, by its sha256; rows never change (triggers)."""

    __tablename__ = "consent_texts"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32), comment="the text template's version")
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text, comment="the text, paragraphs separated by blank lines")


class ConsentLink(Base):
    """A signed link that lets a guest or a parent answer one request without an LMS account.

    Only the sha256 of the link's secret is stored. A link works for one action: answering or
    withdrawing uses it up and hands out a new one.
    """

    __tablename__ = "consent_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("consent_requests.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64))
    answered_by: Mapped[AnsweredBy] = mapped_column(
        str_enum(AnsweredBy), comment="self (a guest) or guardian (a parent of a student)"
    )
    holder_name: Mapped[str] = mapped_column(String(200), default="", comment="e.g. the parent")
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[ConsentRequest] = relationship()


class ConsentScan(Base):
    """A scan of a consent form signed on paper; rows never change (triggers)."""

    __tablename__ = "consent_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(255))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerRecord(Base):
    """One thing that happened to a consent or objection, chained to the record before it.

    ``hash`` = sha256(prev_hash + canonical JSON of the other fields); ``seq`` counts from 1
    without gaps. Rows never change (triggers); see :mod:`lti_tool.consent.ledger`.
    """

    __tablename__ = "consent_ledger"
    __table_args__ = (Index("ix_consent_ledger_request_id_seq", "request_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True, comment="1, 2, 3 ... without gaps")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[LedgerKind] = mapped_column(str_enum(LedgerKind))
    registration_id: Mapped[int] = mapped_column(Integer)
    course_id: Mapped[int] = mapped_column(Integer, index=True)
    item_ids: Mapped[list[int]] = mapped_column(JSON, comment="the items it covers")
    request_id: Mapped[int | None] = mapped_column(Integer, comment="NULL for objections")
    subject: Mapped[str] = mapped_column(
        String(64), index=True, comment="whom it is about: person:<id> or guest:<request id>"
    )
    actor: Mapped[str] = mapped_column(
        String(255), comment="who did it: person:<id>, guest:<request id>, link:<id>, staff"
    )
    answered_by: Mapped[str] = mapped_column(String(16), comment="self, guardian or staff")
    method: Mapped[str] = mapped_column(String(16), comment="lms, signed-link, paper, tool")
    answer: Mapped[str | None] = mapped_column(String(8), comment="yes or no (answers)")
    text_hash: Mapped[str | None] = mapped_column(String(64), comment="the text shown")
    pack_version: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(
        JSON, comment="e.g. scan hash, deletion plan; never names or secrets"
    )


class LedgerHead(Base):
    """The chain's last seq and hash (one row); appenders lock it, so the chain never forks."""

    __tablename__ = "consent_ledger_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class DeletionPlan(Base):
    """What a withdrawal means for one item, with dates; the retention sweep carries it out."""

    __tablename__ = "deletion_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("consent_requests.id", ondelete="SET NULL")
    )
    ledger_seq: Mapped[int] = mapped_column(Integer, comment="the withdrawal's ledger record")
    action: Mapped[PlanAction] = mapped_column(str_enum(PlanAction))
    removed_from_view_on: Mapped[dt.date | None] = mapped_column(Date)
    delete_on: Mapped[dt.date] = mapped_column(Date, index=True)
    replace_for_next_year: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
