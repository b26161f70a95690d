"""Keeping courses, people and memberships current from launches and roster syncs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_tool.access.models import Course, CourseGroup, GroupKind, GroupMember, Membership, Person
from lti_tool.db import get_or_create, utcnow
from lti_tool.lti.context import LaunchContext, normalise_roles


def course_for(session: Session, registration_id: int, context_id: str) -> Course:
    """The course of a platform context, created on first sight."""
    return get_or_create(
        session, Course, {}, registration_id=registration_id, context_id=context_id
    )


def person_for(session: Session, registration_id: int, sub: str) -> Person:
    """The person with platform user id ``sub``, created on first sight."""
    return get_or_create(session, Person, {}, registration_id=registration_id, sub=sub)


def launch_fingerprint(ctx: LaunchContext) -> str:
    """A digest of everything a launch writes to the roster; equal digests mean no change."""
    parts = (
        ctx.user_name,
        ctx.user_email,
        ctx.locale or "",
        ",".join(sorted(ctx.roles)),
        ctx.context_title,
        ctx.context_label,
        ctx.nrps_url or "",
        ",".join(ctx.section_ids),
        ",".join(ctx.group_ids),
        ctx.return_url or "",
        ctx.deep_link.return_url if ctx.deep_link else "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def record_launch(session: Session, ctx: LaunchContext) -> None:
    """Update course, person, membership and (Canvas) section/group ids from a launch.

    A launch that says what the previous one of this active member said writes nothing.
    """
    digest = launch_fingerprint(ctx)
    if ctx.context_id is not None and session.scalar(
        select(Membership.id)
        .join(Person, Person.id == Membership.person_id)
        .join(Course, Course.id == Membership.course_id)
        .where(
            Course.registration_id == ctx.registration_id,
            Course.context_id == ctx.context_id,
            Person.sub == ctx.user_sub,
            Membership.active,
            Membership.launch_digest == digest,
        )
    ):
        return
    person = person_for(session, ctx.registration_id, ctx.user_sub)
    person.name = ctx.user_name or person.name
    person.email = ctx.user_email or person.email
    person.locale = ctx.locale or person.locale
    if ctx.context_id is None:
        return
    course = course_for(session, ctx.registration_id, ctx.context_id)
    course.title = ctx.context_title or course.title
    course.label = ctx.context_label or course.label
    course.nrps_url = ctx.nrps_url or course.nrps_url
    membership = get_or_create(
        session, Membership, {"roles": sorted(ctx.roles)}, course_id=course.id, person_id=person.id
    )
    membership.roles = sorted(ctx.roles)
    membership.active = True
    membership.launch_digest = digest
    membership.synced_at = utcnow()
    if ctx.section_ids or ctx.group_ids:
        _set_groups(session, course, person, GroupKind.SECTION, ctx.section_ids)
        _set_groups(session, course, person, GroupKind.GROUP, ctx.group_ids)
    session.flush()


def _set_groups(
    session: Session, course: Course, person: Person, kind: GroupKind, external_ids: Iterable[str]
) -> None:
    wanted = set(external_ids)
    groups = {
        g.external_id: g
        for g in session.scalars(
            select(CourseGroup).where(CourseGroup.course_id == course.id, CourseGroup.kind == kind)
        )
    }
    for external_id in wanted - groups.keys():
        groups[external_id] = get_or_create(
            session,
            CourseGroup,
            {"name": external_id},
            course_id=course.id,
            kind=kind,
            external_id=external_id,
        )
    current = set(
        session.scalars(
            select(CourseGroup.external_id)
            .join(GroupMember, GroupMember.group_id == CourseGroup.id)
            .where(
                CourseGroup.course_id == course.id,
                CourseGroup.kind == kind,
                GroupMember.person_id == person.id,
            )
        )
    )
    for external_id in current - wanted:
        session.execute(
            delete(GroupMember).where(
                GroupMember.group_id == groups[external_id].id,
                GroupMember.person_id == person.id,
            )
        )
    for external_id in wanted - current:
        session.add(GroupMember(group_id=groups[external_id].id, person_id=person.id))


def apply_roster(session: Session, course: Course, members: list[dict[str, Any]]) -> dict[str, int]:
    """Apply a full names-and-roles membership list: add/update members, deactivate the rest.

    Returns counts: ``active``, ``added``, ``deactivated``.
    """
    seen: set[int] = set()
    added = 0
    existing = {
        m.person_id: m
        for m in session.scalars(select(Membership).where(Membership.course_id == course.id))
    }
    for member in members:
        user_id = member.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            continue
        person = person_for(session, course.registration_id, user_id)
        name = member.get("name") or " ".join(
            p for p in (member.get("given_name"), member.get("family_name")) if p
        )
        person.name = str(name or person.name)[:255]
        person.email = str(member.get("email") or person.email)[:255]
        membership = existing.get(person.id)
        if membership is None:
            membership = Membership(course_id=course.id, person_id=person.id)
            session.add(membership)
            existing[person.id] = membership
            added += 1
        membership.roles = sorted(normalise_roles(list(member.get("roles") or [])))
        membership.active = member.get("status", "Active") == "Active"
        membership.synced_at = utcnow()
        if membership.active:
            seen.add(person.id)
    gone = [pid for pid, m in existing.items() if pid not in seen and m.active]
    for person_id in gone:
        existing[person_id].active = False
    course.roster_synced_at = utcnow()
    session.flush()
    return {"active": len(seen), "added": added, "deactivated": len(gone)}
