"""Read models of items for pages: overviews, one item, the wizard's roster choices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lti_tool.access.audience import active_students, items_for_student
from lti_tool.access.models import CourseGroup, GroupKind, Person
from lti_tool.errors import NotFound
from lti_tool.institution.queries import stored_pack
from lti_tool.items.forms import AudienceOptions, Option
from lti_tool.items.models import Item, ItemAudience
from lti_tool.items.presenting import DecisionView, describe

_EAGER = (
    selectinload(Item.audience_entries).selectinload(ItemAudience.group),
    selectinload(Item.audience_entries).selectinload(ItemAudience.person),
    selectinload(Item.pack),
)


@dataclass(frozen=True)
class ItemCard:
    """An item with its decision in the reader's language and the names of its audience."""

    item: Item
    decision: DecisionView
    audience_names: tuple[str, ...]


def card(item: Item, locale: str) -> ItemCard:
    """``item`` for a page in ``locale``; dates are the item's own (they may be recomputed
    after the decision, e.g. when a graduation date becomes known)."""
    view = describe(item.decision, stored_pack(item.pack).pack, locale)
    if view.retention is not None:
        view = replace(
            view,
            retention=replace(view.retention, delete_on=item.delete_on, review_on=item.review_on),
        )
    names = sorted(
        (e.group.name if e.group else e.person.name if e.person else "")
        for e in item.audience_entries
    )
    return ItemCard(item, view, tuple(names))


def course_items(session: Session, course_id: int, locale: str) -> list[ItemCard]:
    """Every item of a course, newest first (for its teachers)."""
    items = session.scalars(
        select(Item)
        .where(Item.course_id == course_id)
        .options(*_EAGER)
        .order_by(Item.created_at.desc(), Item.id.desc())
    )
    return [card(item, locale) for item in items]


def get_item(session: Session, course_id: int, item_id: int) -> Item:
    """Item ``item_id`` of this course; NotFound for an item of another course."""
    item = session.scalar(
        select(Item).where(Item.id == item_id, Item.course_id == course_id).options(*_EAGER)
    )
    if item is None:
        raise NotFound()
    return item


def student_items(session: Session, course_id: int, person_id: int, locale: str) -> list[ItemCard]:
    """The items whose audience includes this student."""
    items = items_for_student(session, course_id, person_id, *_EAGER)
    return [card(item, locale) for item in items]


@dataclass(frozen=True)
class Concerned:
    """A student with the items that concern them."""

    name: str
    items: list[ItemCard]


def items_concerning(
    session: Session, registration_id: int, course_id: int, subs: Iterable[str], locale: str
) -> list[Concerned]:
    """For each student (by platform user id: oneself, or those a parent represents) the items
    of the course whose audience includes them; a student the tool has not met yet is listed
    by id, without items."""
    wanted = list(dict.fromkeys(subs))
    people = {
        p.sub: p
        for p in session.scalars(
            select(Person).where(Person.registration_id == registration_id, Person.sub.in_(wanted))
        )
    }
    found = [
        Concerned(p.name or sub, student_items(session, course_id, p.id, locale))
        if (p := people.get(sub))
        else Concerned(sub, [])
        for sub in wanted
    ]
    return sorted(found, key=lambda r: r.name.lower())


def audience_options(session: Session, course_id: int) -> AudienceOptions:
    """The sections, groups and active students of a course, by name."""
    groups = session.scalars(
        select(CourseGroup).where(CourseGroup.course_id == course_id).order_by(CourseGroup.name)
    ).all()
    students = session.scalars(
        select(Person).where(Person.id.in_(list(active_students(session, course_id))))
    ).all()
    return AudienceOptions(
        sections=tuple(Option(g.id, g.name) for g in groups if g.kind is GroupKind.SECTION),
        groups=tuple(Option(g.id, g.name) for g in groups if g.kind is GroupKind.GROUP),
        students=tuple(
            Option(p.id, p.name or p.sub) for p in sorted(students, key=lambda p: p.name.lower())
        ),
    )
