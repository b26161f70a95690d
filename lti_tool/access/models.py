"""Courses, people, their memberships and the sections/groups they belong to (the roster)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, str_enum, utcnow


class GroupKind(enum.StrEnum):
    SECTION = "section"
    GROUP = "group"


class Course(Base):
    """An LTI context (course) of one registration's platform."""

    __tablename__ = "courses"
    __table_args__ = (UniqueConstraint("registration_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255), comment="the platform's context id")
    title: Mapped[str] = mapped_column(String(255), default="")
    label: Mapped[str] = mapped_column(String(255), default="")
    nrps_url: Mapped[str | None] = mapped_column(String(1024), comment="names-and-roles endpoint")
    roster_synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    students_under_16: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        comment="every student counts as under 16 unless an age says not",
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Person(Base):
    """A user of one platform, known by the platform's ``sub``."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("registration_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255), comment="the platform's user id")
    name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    locale: Mapped[str | None] = mapped_column(String(16))
    birth_date: Mapped[dt.date | None] = mapped_column(
        Date, comment="from an import by the school; decides who consents for a minor"
    )
    under_16: Mapped[bool | None] = mapped_column(
        Boolean, comment="set by the school where no birth date is known; NULL: not said"
    )
    graduation_date: Mapped[dt.date | None] = mapped_column(
        Date, comment="diploma date from the school (G1.3: assessment material + 2 years)"
    )


class Membership(Base):
    """A person's roles in a course, from launches and names-and-roles syncs."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("course_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    roles: Mapped[list[str]] = mapped_column(
        JSON, default=list, comment="normalised roles: teacher, student, mentor, admin"
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, comment="false: left the course")
    launch_digest: Mapped[str | None] = mapped_column(
        String(64), comment="digest of what the last launch said (unchanged launches skip writes)"
    )
    synced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()


class CourseGroup(Base):
    """A section or group of a course, as the platform names it."""

    __tablename__ = "course_groups"
    __table_args__ = (UniqueConstraint("course_id", "kind", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    kind: Mapped[GroupKind] = mapped_column(str_enum(GroupKind))
    external_id: Mapped[str] = mapped_column(String(255), comment="the platform's section/group id")
    name: Mapped[str] = mapped_column(String(255), default="")


class GroupMember(Base):
    """A person in a section or group."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("course_groups.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
