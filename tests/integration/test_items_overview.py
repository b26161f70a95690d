"""The course overview: teachers see, change and cancel items; students and parents see exactly
the items whose audience includes them, in their own words."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from lti_tool.access.audience import audience_of, can_see
from lti_tool.access.models import CourseGroup, Membership, Person
from lti_tool.audit.models import AuditEvent
from lti_tool.items.models import Item
from tests.support.browser import Browser
from tests.support.items import G2_LIVE_LESSON, TODAY, User, count, created_id, launch, text

STUDENTS = ("s-anna", "s-bram", "s-chloe", "s-daan", "s-eva", "s-finn", "s-sam")


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {**tool_settings, "today": TODAY}


@pytest.fixture
def tess(browser: Browser, new_browser) -> User:
    """The teacher, after every student of course-1 launched once (sections, groups, roster)."""
    for student in STUDENTS:
        launch(new_browser(), student)
    return launch(browser, "t-tess")


def _ids(app: Flask) -> dict[str, int]:
    """Database ids of groups (by external id) and people (by sub); ids of the two tables
    overlap, the keys do not."""
    with app.extensions["lti_tool"].db.transaction() as session:
        groups = dict(session.execute(select(CourseGroup.external_id, CourseGroup.id)).all())
        people = dict(session.execute(select(Person.sub, Person.id)).all())
    return {**groups, **people}


def _create(tess: User, **change: Any) -> int:
    response = tess.post("items/new", {**G2_LIVE_LESSON, **change, "action": "create"})
    assert response.status_code == 303, text(response)
    return created_id(response)


def _titles(page: str, candidates: tuple[str, ...]) -> set[str]:
    return {title for title in candidates if f">{title}</a>" in page}


@pytest.fixture
def four_items(app: Flask, tess: User) -> dict[str, int]:
    """Items for section A, group 1, Bram alone and the whole course."""
    ids = _ids(app)
    return {
        "Section A lesson": _create(
            tess, title="Section A lesson", scope="sections", sections=[str(ids["sec-A"])]
        ),
        "Group 1 lesson": _create(
            tess, title="Group 1 lesson", scope="groups", groups=[str(ids["grp-1"])]
        ),
        "Bram's lesson": _create(
            tess, title="Bram's lesson", scope="students", students=[str(ids["s-bram"])]
        ),
        "Course lesson": _create(tess, title="Course lesson", scope="course"),
    }


TITLES = ("Section A lesson", "Group 1 lesson", "Bram&#39;s lesson", "Course lesson")


@pytest.mark.parametrize(
    ("student", "sees"),
    [
        ("s-anna", {"Section A lesson", "Group 1 lesson", "Course lesson"}),  # sec-A, grp-1
        ("s-bram", {"Section A lesson", "Bram&#39;s lesson", "Course lesson"}),  # sec-A, grp-2
        ("s-eva", {"Course lesson"}),  # sec-B, grp-2
        ("s-finn", {"Course lesson"}),  # sec-B
        ("s-daan", {"Group 1 lesson", "Course lesson"}),  # sec-B, grp-1
    ],
)
def test_students_see_only_items_whose_audience_includes_them(
    four_items: dict[str, int], new_browser, student: str, sees: set[str]
) -> None:
    user = launch(new_browser(), student)
    assert _titles(text(user.get()), TITLES) == sees
    for title, item_id in four_items.items():
        status = user.get(f"items/{item_id}").status_code
        assert status == (200 if title.replace("'", "&#39;") in sees else 404), title


def test_student_sees_the_facts_in_their_own_words(four_items: dict[str, int], new_browser) -> None:
    page = text(launch(new_browser(), "s-finn").get())
    for phrase in (
        "What it is",
        "A live stream.",
        "Why it is allowed",
        "A current lesson may be streamed to its own class without consent",
        "Who can see it",
        "Only the enrolled students of the class or lesson group",
        "When it disappears",
        "Deleted on July 31, 2027.",
    ):
        assert phrase in page, phrase


def test_student_of_another_course_sees_nothing(four_items: dict[str, int], new_browser) -> None:
    gijs = launch(new_browser(), "s-gijs", "course-2")
    assert _titles(text(gijs.get()), TITLES) == set()
    assert gijs.get(f"items/{four_items['Course lesson']}").status_code == 404


def test_parent_sees_the_items_of_the_student_they_represent(
    four_items: dict[str, int], new_browser
) -> None:
    petra = launch(new_browser(), "p-petra")  # mentor of s-sam (sec-A, grp-1)
    page = text(petra.get())
    assert "Sam Meijer" in page
    assert _titles(page, TITLES) == {"Section A lesson", "Group 1 lesson", "Course lesson"}
    assert petra.get(f"items/{four_items['Group 1 lesson']}").status_code == 200
    assert petra.get(f"items/{four_items['Bram' + chr(39) + 's lesson']}").status_code == 404


def test_audience_api_counts_active_students_only(
    app: Flask, four_items: dict[str, int], new_browser
) -> None:
    launch(new_browser(), "p-petra")  # a member of section A, but as a parent
    ids = _ids(app)
    with app.extensions["lti_tool"].db.transaction() as session:
        items = {t: session.get(Item, i) for t, i in four_items.items()}
        names = dict(session.execute(select(Person.id, Person.sub)).all())

        def subs(title: str) -> set[str]:
            item = items[title]
            assert item is not None
            return {names[p] for p in audience_of(session, item)}

        assert subs("Section A lesson") == {"s-anna", "s-bram", "s-chloe", "s-sam"}
        assert subs("Group 1 lesson") == {"s-anna", "s-daan", "s-sam"}
        assert subs("Course lesson") == set(STUDENTS)  # not the teachers, not the parent
        course = items["Course lesson"]
        assert course is not None
        assert can_see(session, course, ids["t-tess"])  # teachers always
        assert not can_see(session, course, ids["p-petra"])  # a parent is no viewer
        session.execute(
            update(Membership).where(Membership.person_id == ids["s-anna"]).values(active=False)
        )
        assert "s-anna" not in subs("Section A lesson")
        assert not can_see(session, course, ids["s-anna"])


def test_teacher_overview_lists_every_item(four_items: dict[str, int], tess: User) -> None:
    page = text(tess.get())
    assert _titles(page, TITLES) == set(TITLES)
    assert page.count('<span class="cite">G2</span> Streaming a lesson live') == 4
    assert page.count('<span class="badge state-ready">Ready</span>') == 4
    assert "Sections: sec-A" not in page  # scope label, then names
    assert "One or more sections: sec-A" in page
    assert "Selected students: Bram Visser" in page
    assert "The whole course" in page
    assert "Deleted on Jul 31, 2027." in page
    assert "Consent progress" in page and "Objections" in page


def test_cancel_is_confirmed_audited_and_hides_the_item(
    app: Flask, four_items: dict[str, int], tess: User, new_browser
) -> None:
    item_id = four_items["Course lesson"]
    question = tess.get(f"items/{item_id}/cancel")
    assert question.status_code == 200 and "Yes, cancel it" in text(question)
    assert count(app, Item, Item.state == "cancelled") == 0  # asking changes nothing
    done = tess.post(f"items/{item_id}/cancel", {})
    assert done.status_code == 303
    assert count(app, Item, Item.state == "cancelled") == 1
    assert count(app, AuditEvent, AuditEvent.kind == "item.cancelled") == 1
    assert "Course lesson" not in text(launch(new_browser(), "s-finn").get())
    again = tess.post(f"items/{item_id}/cancel", {})
    assert again.status_code == 409
    assert tess.post(f"items/{item_id}/edit", {**G2_LIVE_LESSON}).status_code == 409
    assert count(app, AuditEvent, AuditEvent.kind == "item.cancelled") == 1


def test_teacher_of_another_course_cannot_touch_an_item(
    app: Flask, four_items: dict[str, int], new_browser
) -> None:
    other = launch(new_browser(), "t-tess", "course-2")  # a teacher, but of course-2 here
    item_id = four_items["Course lesson"]
    assert other.get(f"items/{item_id}").status_code == 404
    assert other.get(f"items/{item_id}/edit").status_code == 404
    edited = other.post(
        f"items/{item_id}/edit", {**G2_LIVE_LESSON, "title": "Hijacked", "action": "create"}
    )
    assert edited.status_code == 404
    assert other.post(f"items/{item_id}/cancel", {}).status_code == 404
    assert count(app, Item, Item.title == "Hijacked") == 0
    assert count(app, AuditEvent, AuditEvent.kind.in_(["item.updated", "item.cancelled"])) == 0


def test_student_cannot_edit_or_cancel(app: Flask, four_items: dict[str, int], new_browser) -> None:
    anna = launch(new_browser(), "s-anna")
    item_id = four_items["Course lesson"]
    assert anna.post(f"items/{item_id}/cancel", {}).status_code == 403
    assert anna.post(f"items/{item_id}/edit", {**G2_LIVE_LESSON}).status_code == 403
    assert count(app, Item, Item.state == "cancelled") == 0


G3_ITEM = {
    "title": "Demo for next year's students",
    "made": "recording",
    "recognisable": ["teacher", "students"],
    "purpose": "instruction",
    "audience": "cohort",
    "teacher_location": "school",
    "confirm": ["G3.1", "G3.2", "G3.3"],
}


@pytest.mark.parametrize(
    "change",
    [
        {"scope": "course"},  # the whole course instead of section A
        {"scope": "sections", "sections": ["sec-A", "sec-B"]},  # another section
        {"scope": "groups", "groups": ["grp-1"]},  # grp-1 includes Daan of section B
        {"purpose": "wider-audience"},  # another purpose
        {"audience": "public"},  # a wider audience
    ],
)
def test_widening_a_consent_item_is_blocked(app: Flask, tess: User, change: dict[str, Any]) -> None:
    ids = _ids(app)
    item_id = _create(tess, **G3_ITEM, scope="sections", sections=[str(ids["sec-A"])])
    updates = count(app, AuditEvent, AuditEvent.kind == "item.updated")
    change = {
        k: [str(ids[v]) for v in vals] if k in ("sections", "groups") else vals
        for k, vals in change.items()
    }
    answers = {**G3_ITEM, "scope": "sections", "sections": [str(ids["sec-A"])], **change}
    preview = tess.post(f"items/{item_id}/preview", answers)
    assert "A different purpose or a wider audience needs new consent" in text(preview)
    saved = tess.post(f"items/{item_id}/edit", {**answers, "action": "create"})
    assert saved.status_code == 409, text(saved)
    assert "needs new consent, so this change cannot be saved" in text(saved)
    assert count(app, AuditEvent, AuditEvent.kind == "item.updated") == updates
    with app.extensions["lti_tool"].db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None
        assert (item.audience_scope, item.purpose, item.audience) == (
            "sections",
            "instruction",
            "cohort",
        )


def test_narrowing_a_consent_item_is_saved_and_audited(app: Flask, tess: User) -> None:
    ids = _ids(app)
    item_id = _create(tess, **G3_ITEM, scope="sections", sections=[str(ids["sec-A"])])
    narrower = {
        **G3_ITEM,
        "title": "Demo for Anna and Sam",
        "audience": "class",
        "scope": "students",
        "students": [str(ids["s-anna"]), str(ids["s-sam"])],
        "action": "create",
    }
    saved = tess.post(f"items/{item_id}/edit", narrower)
    assert saved.status_code == 303, text(saved)
    with app.extensions["lti_tool"].db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.title == "Demo for Anna and Sam"
        assert {e.person_id for e in item.audience_entries} == {ids["s-anna"], ids["s-sam"]}
        event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "item.updated"))
        assert event is not None and event.subject == f"item:{item_id}"
        assert event.data["before"]["audience_scope"] == "sections"
        assert event.data["after"]["audience_scope"] == "students"
        assert event.pack_version == "2020.10-1"


def test_edit_decides_again(app: Flask, tess: User) -> None:
    item_id = _create(tess)  # a G2 live lesson
    edit_page = tess.get(f"items/{item_id}/edit")
    assert edit_page.status_code == 200
    assert 'value="Lesson 3 live"' in text(edit_page) and "Save changes" in text(edit_page)
    recorded = {**G2_LIVE_LESSON, "made": "recording", "confirm": ["G3.1", "G3.2", "G3.3"]}
    saved = tess.post(f"items/{item_id}/edit", {**recorded, "action": "create"})
    assert saved.status_code == 303, text(saved)
    with app.extensions["lti_tool"].db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None
        assert (item.rule, item.outcome, item.state) == (
            "G3",
            "consent-required",
            "awaiting-consent",
        )
        assert item.delete_on == dt.date(2028, 7, 31)


def test_edit_keeps_counting_retention_from_the_set_up_date(app: Flask, tess: User) -> None:
    item_id = _create(tess)  # set up on 2027-03-15: deleted at the end of that school year
    runtime = app.extensions["lti_tool"]
    runtime.settings = dataclasses.replace(runtime.settings, today="2027-09-01")
    saved = tess.post(
        f"items/{item_id}/edit", {**G2_LIVE_LESSON, "title": "Renamed", "action": "create"}
    )
    assert saved.status_code == 303, text(saved)
    with app.extensions["lti_tool"].db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.title == "Renamed"
        assert item.delete_on == dt.date(2027, 7, 31)  # not 2028-07-31
