"""Everything the tool holds that concerns one person (GDPR art. 15), as one JSON document
that the printable page renders too.

Sections are functions of (session, person, today); :data:`SECTIONS` lists them in order.
Recordings a person appears in are items of the ``items`` section (``appears_in_recording``);
recordings they handed in or uploaded themselves are the ``recordings_made`` section.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool.access.models import Course, CourseGroup, GroupMember, Membership, Person
from lti_tool.audit.models import AuditEvent
from lti_tool.consent import ledger
from lti_tool.consent.models import ConsentRequest, ConsentText, LedgerRecord
from lti_tool.consent.queries import my_view
from lti_tool.items.models import Item
from lti_tool.lti.models import Registration
from lti_tool.privacy.models import PrivacyRequest
from lti_tool.privacy.queries import event_row
from lti_tool.recordings.models import Recording

FORMAT_VERSION = 1
AUDIT_LIMIT = 5000  # newest audit events in one export; the desk's audit search has them all

Section = Callable[[Session, Person, dt.date], Any]


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _person(session: Session, person: Person, today: dt.date) -> dict[str, Any]:
    registration = session.get(Registration, person.registration_id)
    return {
        "id": person.id,
        "user_id": person.sub,
        "platform": None if registration is None else registration.issuer,
        "name": person.name,
        "email": person.email,
        "locale": person.locale,
        "birth_date": _day(person.birth_date),
        "under_16_flag": person.under_16,
    }


def courses_of(session: Session, person: Person) -> list[tuple[Membership, Course]]:
    rows = session.execute(
        select(Membership, Course)
        .join(Course, Course.id == Membership.course_id)
        .where(Membership.person_id == person.id)
        .order_by(Course.title, Course.id)
    )
    return [(membership, course) for membership, course in rows]


def _memberships(session: Session, person: Person, today: dt.date) -> list[dict[str, Any]]:
    groups: dict[int, list[str]] = {}
    for course_id, kind, name in session.execute(
        select(CourseGroup.course_id, CourseGroup.kind, CourseGroup.name)
        .join(GroupMember, GroupMember.group_id == CourseGroup.id)
        .where(GroupMember.person_id == person.id)
        .order_by(CourseGroup.name)
    ):
        groups.setdefault(course_id, []).append(f"{kind.value}: {name}")
    return [
        {
            "course_id": course.id,
            "course": course.title or course.label,
            "roles": list(membership.roles or []),
            "active": membership.active,
            "sections_and_groups": groups.get(course.id, []),
            "last_synced_at": membership.synced_at.isoformat(),
        }
        for membership, course in courses_of(session, person)
    ]


def _items(session: Session, person: Person, today: dt.date) -> list[dict[str, Any]]:
    out = []
    for _membership, course in courses_of(session, person):
        for m in my_view(session, person, course, today).items:
            item, row = m.item, m.request
            out.append(
                {
                    "id": item.id,
                    "course": course.title or course.label,
                    "title": item.title,
                    "made": item.made.value,
                    "rule": item.rule,
                    "legal_basis": item.legal_basis.value,
                    "purpose": item.purpose.value,
                    "audience": item.audience.value,
                    "state": item.state.value,
                    "in_audience": m.in_audience,
                    "appears_in_recording": m.appears,
                    "asked_for_consent": row is not None,
                    "objecting": m.objecting,
                    "delete_on": _day(item.delete_on),
                    "review_on": _day(item.review_on),
                    "retention_rule": item.retention_rule,
                    "removed_at": None if item.removed_at is None else item.removed_at.isoformat(),
                    "consent": None
                    if row is None
                    else {
                        "state": row.state,
                        "answered_by": row.status.answered_by,
                        "at": None if row.status.at is None else row.status.at.isoformat(),
                        "parent_or_guardian_answers": row.guardian_answers,
                        "deletion_plan": None
                        if row.plan is None
                        else {
                            "action": row.plan.action.value,
                            "removed_from_view_on": _day(row.plan.removed_from_view_on),
                            "delete_on": row.plan.delete_on.isoformat(),
                        },
                    },
                }
            )
    return out


def _created(session: Session, person: Person, today: dt.date) -> list[dict[str, Any]]:
    """Recordings and streams the person set up (a teacher's own, G4, and any other)."""
    rows = session.execute(
        select(Item, Course)
        .join(Course, Course.id == Item.course_id)
        .where(Item.creator_id == person.id)
        .order_by(Item.id)
    )
    return [
        {
            "id": item.id,
            "course": course.title or course.label,
            "title": item.title,
            "rule": item.rule,
            "state": item.state.value,
            "delete_on": _day(item.delete_on),
            "review_on": _day(item.review_on),
        }
        for item, course in rows
    ]


def _ledger(session: Session, person: Person, today: dt.date) -> list[dict[str, Any]]:
    records = session.scalars(
        select(LedgerRecord)
        .where(LedgerRecord.subject == f"person:{person.id}")
        .order_by(LedgerRecord.seq)
    )
    return [
        {
            **{name: ledger.plain(getattr(r, name)) for name in ledger.HASHED},
            "hash": r.hash,
        }
        for r in records
    ]


def _texts(session: Session, person: Person, today: dt.date) -> dict[str, Any]:
    hashes = set()
    for text_en, text_nl in session.execute(
        select(ConsentRequest.text_en, ConsentRequest.text_nl).where(
            ConsentRequest.person_id == person.id
        )
    ):
        hashes |= {text_en, text_nl}
    rows = session.scalars(select(ConsentText).where(ConsentText.hash.in_(hashes)))
    return {t.hash: {"language": t.language, "version": t.version, "body": t.body} for t in rows}


def _requests(session: Session, person: Person, today: dt.date) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(PrivacyRequest)
        .where(PrivacyRequest.subject_id == person.id)
        .order_by(PrivacyRequest.id)
    )
    return [
        {
            "id": r.id,
            "kind": r.kind.value,
            "capacity": r.capacity.value,
            "state": r.state.value,
            "received_at": r.received_at.isoformat(),
            "carried_out_at": None if r.carried_out_at is None else r.carried_out_at.isoformat(),
            "outcomes": [
                {
                    "item_id": o.item_id,
                    "item": o.item_title,
                    "rule": o.rule,
                    "retention_rule": o.retention_rule,
                    "outcome": o.outcome.value,
                    "until": _day(o.until),
                }
                for o in r.outcomes
            ],
        }
        for r in rows
    ]


def person_actor(person: Person) -> str:
    """How audit events name the person as the one who acted."""
    return f"{person.registration_id}:{person.sub}"


def _audit(session: Session, person: Person, today: dt.date) -> list[dict[str, Any]]:
    events = session.scalars(
        select(AuditEvent)
        .where(
            or_(
                AuditEvent.actor == person_actor(person),
                AuditEvent.subject == f"person:{person.id}",
            )
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(AUDIT_LIMIT)
    )
    return [event_row(e) for e in events]


def _recordings_made(session: Session, person: Person, today: dt.date) -> list[dict[str, Any]]:
    """Recordings the person handed in (G1) or uploaded or recorded themselves."""
    rows = session.execute(
        select(Recording, Item)
        .join(Item, Item.id == Recording.item_id)
        .where(or_(Recording.owner_id == person.id, Recording.uploaded_by_id == person.id))
        .order_by(Recording.id)
    )
    return [
        {
            "id": rec.id,
            "item": item.title,
            "item_id": item.id,
            "handed_in_as_own_work": rec.owner_id == person.id,
            "file_name": rec.filename,
            "source": rec.source.value,
            "state": rec.state.value,
            "duration_seconds": rec.duration,
            "made_at": rec.created_at.isoformat(),
            "erased_at": None if rec.erased_at is None else rec.erased_at.isoformat(),
            "delete_on": _day(item.delete_on),
            "review_on": _day(item.review_on),
        }
        for rec, item in rows
    ]


SECTIONS: list[tuple[str, Section]] = [
    ("person", _person),
    ("memberships", _memberships),
    ("items", _items),
    ("items_set_up", _created),
    ("recordings_made", _recordings_made),
    ("consent_ledger", _ledger),
    ("consent_texts", _texts),
    ("privacy_requests", _requests),
    ("audit_events", _audit),
]


def person_export(session: Session, person: Person, today: dt.date) -> dict[str, Any]:
    """Everything that concerns ``person``, section by section."""
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "generated_on": today.isoformat(),
        "legal_ground": "GDPR art. 15 (right of access)",
    }
    for name, section in SECTIONS:
        data[name] = section(session, person, today)
    return data


def export_json(data: dict[str, Any]) -> str:
    """The export as the JSON file handed out."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=str, sort_keys=False)


def export_digest(data: dict[str, Any]) -> str:
    """sha256 of the export (recorded with the access request)."""
    return hashlib.sha256(export_json(data).encode()).hexdigest()
