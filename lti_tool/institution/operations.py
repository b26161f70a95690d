"""Changing institution settings and storing packs (flush, never commit; every change audited)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lti_tool.audit.operations import record
from lti_tool.db import get_or_create
from lti_tool.institution.models import GuidelinePack, RegistrationSettings
from lti_tool.institution.queries import Institution, PackSource, parsed_pack
from lti_tool.policy import Pack


def pack_row(session: Session, source: PackSource) -> GuidelinePack:
    """The stored row of ``source``'s pack, added on first use (safe under concurrency)."""
    defaults = {
        "name": source.pack.name,
        "version": source.pack.version,
        "source": source.source[:255],
        "content": source.content,
    }
    return get_or_create(session, GuidelinePack, defaults, digest=source.pack.digest)


def _settings_row(session: Session, registration_id: int) -> RegistrationSettings:
    return get_or_create(session, RegistrationSettings, {}, registration_id=registration_id)


def _pack_json(pack: Pack) -> dict[str, str]:
    return {"name": pack.name, "version": pack.version, "digest": pack.digest}


def install_pack(
    session: Session, current: Institution, content: str, filename: str, *, actor: str
) -> Pack:
    """Validate ``content`` and make it the active pack.

    Raises ``PackError`` listing every problem; then nothing changes and the current pack stays.
    """
    pack = parsed_pack(content, filename)
    row = _settings_row(session, current.registration_id)
    row.pack_id = pack_row(session, PackSource(pack, content, filename)).id
    row.updated_by = actor
    session.flush()
    record(
        session,
        "settings.pack_installed",
        actor=actor,
        registration_id=current.registration_id,
        subject=f"registration:{current.registration_id}",
        pack_version=pack.version,
        pack=_pack_json(pack),
        previous=_pack_json(current.pack),
        file=filename,
    )
    return pack


def use_builtin_pack(
    session: Session, current: Institution, builtin: PackSource, *, actor: str
) -> None:
    """Go back to the built-in pack."""
    row = _settings_row(session, current.registration_id)
    row.pack_id = None
    row.updated_by = actor
    session.flush()
    record(
        session,
        "settings.pack_installed",
        actor=actor,
        registration_id=current.registration_id,
        subject=f"registration:{current.registration_id}",
        pack_version=builtin.pack.version,
        pack={**_pack_json(builtin.pack), "builtin": True},
        previous=_pack_json(current.pack),
    )


def update_settings(
    session: Session,
    current: Institution,
    *,
    school_year_end: str | None,
    privacy_officer_contact: str | None,
    actor: str,
) -> dict[str, Any]:
    """Set the school-year end (``MM-DD``, validated by the caller) and the privacy officer's
    contact; None means the tool's default. Returns the changes (empty: nothing changed)."""
    row = _settings_row(session, current.registration_id)
    changes: dict[str, Any] = {}
    for field, value in (
        ("school_year_end", school_year_end),
        ("privacy_officer_contact", privacy_officer_contact),
    ):
        if getattr(row, field) != value:
            changes[field] = {"from": getattr(row, field), "to": value}
            setattr(row, field, value)
    if changes:
        row.updated_by = actor
        session.flush()
        record(
            session,
            "settings.changed",
            actor=actor,
            registration_id=current.registration_id,
            subject=f"registration:{current.registration_id}",
            pack_version=current.pack.version,
            changes=changes,
        )
    return changes
