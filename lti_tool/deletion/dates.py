"""Deletion and review dates that change when facts change (flush, never commit; each change
audited as ``retention.date-changed`` with the old and the new dates and why).

- a graduation date becomes known (G1.3): assessment material is kept until two years (the
  pack's ``years``) after the diploma of every student it concerns;
- the institution's school-year end changes (G2.5): G2 material ends at the new date;
- a teacher answers a yearly review (G4.2): kept another year, or deleted now.

Before every student's graduation date is known a G1 item has no deletion date: it is held
(``delete_on`` NULL) with a yearly ``review_on`` that teachers see on their page ("held until
graduation + 2 years"); the sweep never deletes it on that review date.
Consent withdrawals lower ``delete_on`` themselves (``lti_tool.consent``); recomputed dates
never pass a withdrawal's deletion plan.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lti_tool.access.models import Course, GroupMember, Membership, Person
from lti_tool.audit.operations import record
from lti_tool.consent.models import DeletionPlan
from lti_tool.errors import Conflict, _
from lti_tool.items.models import AudienceScope, Item, ItemAudience, ItemState
from lti_tool.lti.context import ROLE_STUDENT
from lti_tool.policy import Pack, RetentionKind
from lti_tool.policy.pack import RetentionMethod
from lti_tool.retention.dates import school_year_end_on_or_after, yearly_review
from lti_tool.retention.schedule import capped, graduation_delete_on, in_notice_window


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _change(
    session: Session,
    item: Item,
    *,
    delete_on: dt.date | None,
    review_on: dt.date | None,
    because: str,
    actor: str,
    **data: Any,
) -> bool:
    if (item.delete_on, item.review_on) == (delete_on, review_on):
        return False
    record(
        session,
        "retention.date-changed",
        actor=actor,
        course_id=item.course_id,
        subject=item.subject,
        pack_version=item.decision.get("pack_version"),
        because=because,
        rule=item.retention_rule,
        old={"delete_on": _iso(item.delete_on), "review_on": _iso(item.review_on)},
        new={"delete_on": _iso(delete_on), "review_on": _iso(review_on)},
        **data,
    )
    item.delete_on, item.review_on = delete_on, review_on
    return True


def _plan_caps(session: Session, item: Item) -> list[dt.date]:
    planned = session.scalar(
        select(func.min(DeletionPlan.delete_on)).where(DeletionPlan.item_id == item.id)
    )
    return [] if planned is None else [planned]


def concerned_students(session: Session, item: Item) -> list[Person]:
    """The students a G1 item concerns: the picked students, the students of its groups, or
    every student the course has had (also those who left: graduates leave)."""
    rows = session.execute(
        select(Membership.person_id, Membership.roles).where(Membership.course_id == item.course_id)
    )
    course_students = {pid for pid, roles in rows if ROLE_STUDENT in (roles or ())}
    picked: set[int]
    if item.audience_scope is AudienceScope.STUDENTS:
        picked = {e.person_id for e in item.audience_entries if e.person_id is not None}
    elif item.audience_scope in (AudienceScope.SECTIONS, AudienceScope.GROUPS):
        groups = [e.group_id for e in item.audience_entries if e.group_id is not None]
        picked = (
            set(
                session.scalars(
                    select(GroupMember.person_id).where(GroupMember.group_id.in_(groups))
                )
            )
            & course_students
        )
    else:
        picked = course_students
    if not picked:
        return []
    return list(session.scalars(select(Person).where(Person.id.in_(picked)).order_by(Person.id)))


def graduation_items(session: Session, person_ids: list[int]) -> list[Item]:
    """G1 items (held until graduation) in courses these people are or were students of."""
    courses = select(Membership.course_id).where(Membership.person_id.in_(person_ids))
    picked = select(ItemAudience.item_id).where(ItemAudience.person_id.in_(person_ids))
    return list(
        session.scalars(
            select(Item)
            .where(
                Item.retention_kind == RetentionKind.UNTIL_GRADUATION,
                Item.state != ItemState.DELETED,
                or_(Item.course_id.in_(courses), Item.id.in_(picked)),
            )
            .order_by(Item.id)
        )
    )


def recompute_graduation(session: Session, item: Item, *, actor: str) -> bool:
    """Set a G1 item's deletion date from its students' graduation dates (G1.3) once every
    one is known; the yearly review then stops. Returns whether the dates changed."""
    years = int((item.decision.get("retention") or {}).get("years_after_graduation") or 2)
    students = concerned_students(session, item)
    new = graduation_delete_on([p.graduation_date for p in students], years)
    if new is None:
        return False
    new = capped(new, _plan_caps(session, item))
    return _change(
        session,
        item,
        delete_on=new,
        review_on=None,
        because="graduation",
        actor=actor,
        graduations={str(p.id): _iso(p.graduation_date) for p in students},
        years_after_graduation=years,
    )


def school_year_rules(pack: Pack) -> set[str]:
    """The condition ids (e.g. G2.5) of the pack's retention rules that end at the school-year
    end."""
    return {r.cite for r in pack.retention.values() if r.method is RetentionMethod.SCHOOL_YEAR_END}


def school_year_end_changed(
    session: Session,
    registration_id: int,
    pack: Pack,
    new_end: tuple[int, int],
    *,
    actor: str,
    today: dt.date,
) -> list[int]:
    """G2.5: material of a rule ending at the school-year end, not yet deleted and not ended
    yet, gets the end of its own school year under the new setting. Returns changed item ids."""
    rules = school_year_rules(pack)
    items = session.scalars(
        select(Item)
        .join(Course, Course.id == Item.course_id)
        .where(
            Course.registration_id == registration_id,
            Item.state != ItemState.DELETED,
            Item.retention_kind == RetentionKind.DELETE_ON,
            Item.retention_rule.in_(rules),
            Item.delete_on >= today,
        )
        .order_by(Item.id)
    ).all()
    changed = []
    for item in items:
        new = capped(
            school_year_end_on_or_after(item.set_up_on, new_end), _plan_caps(session, item)
        )
        if _change(
            session,
            item,
            delete_on=new,
            review_on=item.review_on,
            because="school-year-end",
            actor=actor,
            school_year_end=f"{new_end[0]:02d}-{new_end[1]:02d}",
        ):
            changed.append(item.id)
    session.flush()
    return changed


class NotUnderReview(Conflict):
    reason = _("This recording or stream is not waiting for a review.")


def under_review(item: Item, today: dt.date) -> bool:
    """Whether the teacher is asked about ``item`` now: no deletion date yet and its review
    date within the notice window (or passed)."""
    return (
        item.state is not ItemState.DELETED
        and item.delete_on is None
        and in_notice_window(item.review_on, today)
    )


def answer_review(session: Session, item: Item, *, keep: bool, actor: str, today: dt.date) -> None:
    """G4.2: the teacher keeps the item another year (review in a year) or lets it go (deleted
    by the next sweep). A G1 item held until graduation can only be kept (a legal duty)."""
    if not under_review(item, today):
        raise NotUnderReview()
    graduation = item.retention_kind is RetentionKind.UNTIL_GRADUATION
    if keep or graduation:
        _change(
            session,
            item,
            delete_on=None,
            review_on=yearly_review(today),
            because="review-kept",
            actor=actor,
        )
    else:
        _change(
            session,
            item,
            delete_on=today,
            review_on=item.review_on,
            because="review-declined",
            actor=actor,
        )
    session.flush()
