"""The settings in force for a registration, with the tool-wide defaults filled in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.config import Settings
from lti_tool.institution.models import GuidelinePack, RegistrationSettings
from lti_tool.policy import DEFAULT_PACK_PATH, InstitutionSettings, Pack, parse_pack


@dataclass(frozen=True)
class PackSource:
    """A pack with the YAML it was read from (to store it when a decision uses it)."""

    pack: Pack
    content: str
    source: str


@dataclass(frozen=True)
class Institution:
    """What decisions and pages of one registration use.

    ``pack_row_id`` is the stored pack an administrator installed, None for the built-in pack.
    """

    registration_id: int
    active: PackSource
    pack_row_id: int | None
    school_year_end: str
    school_year_end_is_default: bool
    privacy_officer_contact: str
    contact_is_default: bool
    updated_at: dt.datetime | None
    updated_by: str | None

    @property
    def pack(self) -> Pack:
        return self.active.pack

    @property
    def policy(self) -> InstitutionSettings:
        """The settings ``evaluate`` takes."""
        return InstitutionSettings(school_year_end=parse_month_day(self.school_year_end))


def parse_month_day(value: str) -> tuple[int, int]:
    """``MM-DD`` as (month, day); ValueError when it is not a real month and day."""
    month, sep, day = value.strip().partition("-")
    if not sep or len(month) != 2 or len(day) != 2 or not (month + day).isdigit():
        raise ValueError(f"{value!r} is not MM-DD")
    month_day = (int(month), int(day))
    InstitutionSettings(school_year_end=month_day)
    return month_day


@lru_cache(maxsize=32)
def parsed_pack(content: str, source: str) -> Pack:
    """``parse_pack`` remembered per document (packs are immutable once stored)."""
    return parse_pack(content, source)


@lru_cache(maxsize=4)
def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def builtin_pack(settings: Settings) -> PackSource:
    """The pack used where an administrator installed none: ``pack_path`` or the shipped one."""
    path = settings.pack_path or str(DEFAULT_PACK_PATH)
    content = _read(path)
    name = Path(path).name
    return PackSource(parsed_pack(content, name), content, name)


def stored_pack(row: GuidelinePack) -> PackSource:
    """The pack of a stored row."""
    return PackSource(parsed_pack(row.content, row.source), row.content, row.source)


def institution_for(session: Session, settings: Settings, registration_id: int) -> Institution:
    """The settings in force for ``registration_id``."""
    row = session.scalar(
        select(RegistrationSettings).where(RegistrationSettings.registration_id == registration_id)
    )
    year_end = row.school_year_end if row else None
    contact = row.privacy_officer_contact if row else None
    pack_row = row.pack if row else None
    return Institution(
        registration_id=registration_id,
        active=builtin_pack(settings) if pack_row is None else stored_pack(pack_row),
        pack_row_id=None if pack_row is None else pack_row.id,
        school_year_end=year_end or settings.school_year_end,
        school_year_end_is_default=year_end is None,
        privacy_officer_contact=contact or settings.privacy_officer_contact,
        contact_is_default=contact is None,
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by if row else None,
    )


def today(settings: Settings) -> dt.date:
    """The date decisions are made on: the ``today`` setting (tests, demos) or the real date."""
    return dt.date.fromisoformat(settings.today) if settings.today else dt.date.today()
