"""Recordings, their uploads in progress, the people who appear in them and how an item takes
recordings (a teacher's recording, or a G1 hand-in where each student hands in their own)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.access.models import Person
from lti_tool.db import Base, UTCDateTime, str_enum, utcnow
from lti_tool.items.models import Item


class RecordingState(enum.StrEnum):
    UPLOADING = "uploading"  # bytes arriving (tus); nothing visible
    PROCESSING = "processing"  # probed, waits for conversion (job); nothing visible
    READY = "ready"  # playable by the item's audience
    FAILED = "failed"  # refused or conversion failed; ``error`` says why; media removed
    ERASED = "erased"  # media deleted (erase_item_media); the row stays as a record


class Source(enum.StrEnum):
    UPLOAD = "upload"
    BROWSER = "browser"  # recorded with MediaRecorder in the tool's page
    STREAM = "stream"  # a live stream recorded by the media server (nginx-rtmp ``record``)


class RecordingItem(Base):
    """How an item takes recordings (a row only for hand-in items)."""

    __tablename__ = "recording_items"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    hand_in: Mapped[bool] = mapped_column(
        default=False, comment="G1: each student hands in their own recording"
    )
    shared_with_class: Mapped[bool] = mapped_column(
        default=False, comment="G1.1: hand-ins are also shown to the item's audience"
    )


class Recording(Base):
    """One recording of an item. Media lives in storage under ``rec/<public_id>/``."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    public_id: Mapped[str] = mapped_column(
        String(32), unique=True, comment="random, unguessable; names the media in storage"
    )
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id"), index=True, comment="hand-in: the student whose work it is"
    )
    source: Mapped[Source] = mapped_column(str_enum(Source))
    state: Mapped[RecordingState] = mapped_column(str_enum(RecordingState))
    filename: Mapped[str] = mapped_column(String(200), comment="as the uploader named it")
    size: Mapped[int] = mapped_column(BigInteger, comment="bytes announced by the upload")
    format: Mapped[str | None] = mapped_column(String(32), comment="container found by ffprobe")
    duration: Mapped[float | None] = mapped_column(Float, comment="seconds (ffprobe)")
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    has_video: Mapped[bool] = mapped_column(default=False)
    media_key: Mapped[str | None] = mapped_column(String(200), comment="the MP4 in storage")
    poster_key: Mapped[str | None] = mapped_column(String(200), comment="the poster in storage")
    storage: Mapped[str] = mapped_column(String(16), comment="storage name (local, s3)")
    error: Mapped[str | None] = mapped_column(
        String(300), comment="why it failed (an English msgid, translated when shown)"
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    item: Mapped[Item] = relationship()
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id])
    uploaded_by: Mapped[Person] = relationship(foreign_keys=[uploaded_by_id])

    @property
    def prefix(self) -> str:
        """The storage prefix of everything of this recording."""
        return f"rec/{self.public_id}/"


class Upload(Base):
    """A tus upload in progress: bytes go to a partial file on local disk."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(43), primary_key=True, comment="random upload id")
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), unique=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), comment="only they resume")
    length: Mapped[int] = mapped_column(BigInteger, comment="Upload-Length")
    offset: Mapped[int] = mapped_column(BigInteger, default=0, comment="bytes received")
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    recording: Mapped[Recording] = relationship()


class RecordingPerson(Base):
    """Someone recognisable in an item's recordings: a person of the course or a guest."""

    __tablename__ = "recording_people"
    __table_args__ = (
        CheckConstraint(
            "(person_id IS NOT NULL AND guest_name IS NULL)"
            " OR (person_id IS NULL AND guest_name IS NOT NULL)",
            name="person_or_guest",
        ),
        UniqueConstraint("item_id", "person_id", name="uq_recording_people_item_id_person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    guest_name: Mapped[str | None] = mapped_column(String(200))
    added_by: Mapped[str] = mapped_column(String(200), comment="audit actor")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person | None] = relationship()
