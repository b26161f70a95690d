"""Guideline packs as stored (immutable, by digest) and the settings of one registration."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, utcnow


class GuidelinePack(Base):
    """A validated pack exactly as it was used; rows never change (database triggers).

    Items and (later) consents point here, so the texts a decision was shown with stay
    available after an institution installs another pack.
    """

    __tablename__ = "guideline_packs"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(
        String(64), unique=True, comment="sha256 of the canonical pack content"
    )
    name: Mapped[str] = mapped_column(String(255), comment="the pack's name")
    version: Mapped[str] = mapped_column(String(64), comment="the pack's version")
    source: Mapped[str] = mapped_column(String(255), comment="file name it was loaded from")
    content: Mapped[str] = mapped_column(Text, comment="the YAML document")
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegistrationSettings(Base):
    """What an administrator set for the institution behind one platform registration.

    A NULL column means the tool-wide default (the built-in pack, or the ``school_year_end``
    and ``privacy_officer_contact`` settings).
    """

    __tablename__ = "registration_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True
    )
    pack_id: Mapped[int | None] = mapped_column(
        ForeignKey("guideline_packs.id"), comment="active pack; NULL: the built-in pack"
    )
    school_year_end: Mapped[str | None] = mapped_column(
        String(5), comment="MM-DD the school year ends; NULL: the tool's default"
    )
    privacy_officer_contact: Mapped[str | None] = mapped_column(
        String(255), comment="shown on refusals; NULL: the tool's default"
    )
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(
        String(255), default="system", comment="'registration_id:sub' of the administrator"
    )

    pack: Mapped[GuidelinePack | None] = relationship()
