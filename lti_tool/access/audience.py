"""Who an item is for: the active students of its course within its audience scope.

One definition serves every caller (overviews now, viewer authorisation later):

- ``course``: every active student of the course;
- ``sections`` / ``groups``: active students who are members of one of the item's groups;
- ``students``: the picked students, while they are active students of the course.

Teachers of the course are not the audience but may always see an item (``can_see``).
Only memberships with ``active`` count, so a student who left loses access at once.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from lti_tool.access.models import GroupMember, Membership
from lti_tool.items.models import AudienceScope, Item, ItemAudience, ItemState
from lti_tool.lti.context import ROLE_STUDENT, ROLE_TEACHER

HIDDEN = (ItemState.CANCELLED, ItemState.AWAITING_CONSENT, ItemState.DELETED)


def _active_roles(session: Session, course_id: int, person_id: int) -> frozenset[str]:
    roles = session.scalar(
        select(Membership.roles).where(
            Membership.course_id == course_id,
            Membership.person_id == person_id,
            Membership.active,
        )
    )
    return frozenset(roles or ())


def active_students(session: Session, course_id: int) -> set[int]:
    """Person ids of the active students of a course."""
    rows = session.execute(
        select(Membership.person_id, Membership.roles).where(
            Membership.course_id == course_id, Membership.active
        )
    )
    return {person_id for person_id, roles in rows if ROLE_STUDENT in (roles or ())}


def members(
    session: Session,
    course_id: int,
    scope: AudienceScope,
    group_ids: Collection[int] = (),
    person_ids: Collection[int] = (),
) -> set[int]:
    """Person ids of the audience described by ``scope`` and its groups or students."""
    students = active_students(session, course_id)
    match scope:
        case AudienceScope.COURSE:
            return students
        case AudienceScope.SECTIONS | AudienceScope.GROUPS:
            in_groups = session.scalars(
                select(GroupMember.person_id).where(GroupMember.group_id.in_(list(group_ids)))
            )
            return students & set(in_groups)
        case AudienceScope.STUDENTS:
            return students & set(person_ids)


def audience_of(session: Session, item: Item) -> set[int]:
    """Person ids of the active students ``item`` is for."""
    return members(
        session,
        item.course_id,
        item.audience_scope,
        [e.group_id for e in item.audience_entries if e.group_id is not None],
        [e.person_id for e in item.audience_entries if e.person_id is not None],
    )


def includes(person_id: int) -> ColumnElement[bool]:
    """SQL: the item's audience scope covers ``person_id`` (membership of the course aside)."""
    in_groups = select(GroupMember.group_id).where(GroupMember.person_id == person_id)
    return or_(
        Item.audience_scope == AudienceScope.COURSE,
        and_(
            Item.audience_scope.in_([AudienceScope.SECTIONS, AudienceScope.GROUPS]),
            exists().where(ItemAudience.item_id == Item.id, ItemAudience.group_id.in_(in_groups)),
        ),
        and_(
            Item.audience_scope == AudienceScope.STUDENTS,
            exists().where(ItemAudience.item_id == Item.id, ItemAudience.person_id == person_id),
        ),
    )


def items_for_student(
    session: Session, course_id: int, person_id: int, *options: ORMOption
) -> list[Item]:
    """The items of a course whose audience includes ``person_id``, newest first (loaded with
    ``options``, e.g. eager loads).

    Empty unless the person is an active student of the course; items that are cancelled,
    still wait for consent (G3 publication gate) or were removed after a withdrawal are left
    out.
    """
    if ROLE_STUDENT not in _active_roles(session, course_id, person_id):
        return []
    return list(
        session.scalars(
            select(Item)
            .where(
                Item.course_id == course_id,
                Item.state.not_in(HIDDEN),
                Item.removed_at.is_(None),
                includes(person_id),
            )
            .options(*options)
            .order_by(Item.created_at.desc(), Item.id.desc())
        )
    )


def can_see(session: Session, item: Item, person_id: int) -> bool:
    """Whether ``item`` is shown to ``person_id``: to an active teacher of its course always;
    to an active student in its audience once it is published (not cancelled, not waiting for
    consent, not removed after a withdrawal). A stream's own gates belong to its callers."""
    roles = _active_roles(session, item.course_id, person_id)
    if ROLE_TEACHER in roles:
        return True
    if ROLE_STUDENT not in roles or item.state in HIDDEN or item.removed_at is not None:
        return False
    found = session.scalar(select(Item.id).where(Item.id == item.id, includes(person_id)))
    return found is not None


def can_see_recording(
    session: Session, item: Item, owner_id: int | None, shared_with_class: bool, person_id: int
) -> bool:
    """Whether ``person_id`` may play a recording of ``item``. A recording handed in by a
    student (``owner_id``, G1) is for that student and the assessors (teachers of the course)
    only, unless the teacher shared the hand-ins with the item's audience (G1.1); any other
    recording is for whoever :func:`can_see` the item."""
    if owner_id is None or shared_with_class:
        return can_see(session, item, person_id)
    roles = _active_roles(session, item.course_id, person_id)
    if ROLE_TEACHER in roles:
        return True
    return (
        person_id == owner_id
        and ROLE_STUDENT in roles
        and item.state not in HIDDEN
        and item.removed_at is None
    )
