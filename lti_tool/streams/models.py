"""A live stream of an item: its public name, the hash of its current key, its state."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, str_enum, utcnow
from lti_tool.items.models import Item
from lti_tool.streams.window import Window


class StreamState(enum.StrEnum):
    IDLE = "idle"  # never published yet
    LIVE = "live"
    ENDED = "ended"


class Stream(Base):
    """The stream of one item. The key is never stored: only its SHA-256 (shown once)."""

    __tablename__ = "streams"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), unique=True, comment="one stream per item"
    )
    provider: Mapped[str] = mapped_column(String(32), comment="media provider name")
    name: Mapped[str] = mapped_column(
        String(64), unique=True, comment="public, unguessable stream name (not the key)"
    )
    key_hash: Mapped[str | None] = mapped_column(
        String(64), comment="sha256 hex of the current stream key; NULL: no key yet"
    )
    key_version: Mapped[int] = mapped_column(default=0, comment="how often a key was issued")
    key_set_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[StreamState] = mapped_column(str_enum(StreamState), default=StreamState.IDLE)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    window_start: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="scheduled start (publishing allowed a little before); NULL: any time"
    )
    window_end: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="scheduled end: a publish still live then is cut off"
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[Item] = relationship()

    @property
    def window(self) -> Window | None:
        """The scheduled window, if the teacher set one."""
        if self.window_start is None or self.window_end is None:
            return None
        return Window(self.window_start, self.window_end)
