"""Teachers see what goes within two weeks and answer yearly reviews (G4.2); the administrator
moves the school-year end (G2 dates follow, audited) and enters graduation dates."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.access.models import Membership, Person
from lti_tool.audit.models import AuditEvent
from lti_tool.items.models import Item
from tests.support.browser import Browser
from tests.support.items import G2_LIVE_LESSON, User, created_id, launch, text

TODAY = "2027-07-20"  # eleven days before the school year ends (07-31)


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {**tool_settings, "today": TODAY, "review_grace_days": 30}


@pytest.fixture
def tess(browser: Browser) -> User:
    return launch(browser, "t-tess")


def _g2(app: Flask, tess: User) -> Item:
    created = tess.post("items/new", {**G2_LIVE_LESSON, "action": "create"})
    assert created.status_code == 303, text(created)
    with app.extensions["lti_tool"].db.transaction() as session:
        return session.get_one(Item, created_id(created))


G4_OWN = {
    "made": "recording",
    "recognisable": ["teacher"],
    "purpose": "instruction",
    "audience": "cohort",
    "teacher_location": "private",
    "scope": "course",
    "confirm": ["G4.1", "G4.2", "G4.3"],
}


def _instruction(app: Flask, tess: User, title: str, review_on: dt.date) -> int:
    """A G4 instruction video set up through the wizard, its review date then brought near."""
    created = tess.post("items/new", {**G4_OWN, "title": title, "action": "create"})
    assert created.status_code == 303, text(created)
    with app.extensions["lti_tool"].db.transaction() as session:
        item = session.get_one(Item, created_id(created))
        assert (item.delete_on, item.review_on) == (None, dt.date(2028, 7, 20))
        item.review_on = review_on
        return item.id


def test_teacher_sees_what_goes_at_the_school_year_end(app: Flask, tess: User) -> None:
    g2 = _g2(app, tess)
    assert g2.delete_on == dt.date(2027, 7, 31)
    home = text(tess.get())
    assert "Deleted within two weeks" in home and "Lesson 3 live" in home
    assert "deleted on Jul 31, 2027" in home
    dutch = launch(tess.browser, "t-tess", lang="nl")
    assert "Binnen twee weken verwijderd" in text(dutch.get())


def test_school_year_end_change_moves_g2_items_and_is_audited(
    app: Flask, tess: User, new_browser: Any
) -> None:
    g2 = _g2(app, tess)
    adam = launch(new_browser(), "a-adam")
    assert adam.post("admin/settings", {"school_year_end": "08-31"}).status_code == 303
    with app.extensions["lti_tool"].db.transaction() as session:
        assert session.get_one(Item, g2.id).delete_on == dt.date(2027, 8, 31)
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.kind == "retention.date-changed")
        )
        assert event is not None and event.subject == f"item:{g2.id}"
        assert event.data["because"] == "school-year-end"
        assert event.data["old"]["delete_on"] == "2027-07-31"
        assert event.data["new"]["delete_on"] == "2027-08-31"
    assert "Deleted within two weeks" not in text(tess.get())


def test_yearly_review_keep_or_let_go(app: Flask, tess: User) -> None:
    keep = _instruction(app, tess, "How to titrate", dt.date(2027, 7, 25))
    drop = _instruction(app, tess, "Old demo", dt.date(2027, 7, 15))
    home = text(tess.get())
    assert "Review “How to titrate”" in home and "Review “Old demo”" in home
    assert "deleted on Aug 14, 2027 without an answer" in home  # 07-15 + 30 days grace
    page = tess.get(f"items/{keep}/review")
    assert page.status_code == 200 and "Keep it for another year?" in text(page)
    assert tess.post(f"items/{keep}/review", {"keep": "maybe"}).status_code == 400
    assert tess.post(f"items/{keep}/review", {"keep": "yes"}, csrf=False).status_code in (400, 403)
    assert tess.post(f"items/{keep}/review", {"keep": "yes"}).status_code == 303
    assert tess.post(f"items/{drop}/review", {"keep": "no"}).status_code == 303
    with app.extensions["lti_tool"].db.transaction() as session:
        kept = session.get_one(Item, keep)
        assert (kept.delete_on, kept.review_on) == (None, dt.date(2028, 7, 20))
        assert session.get_one(Item, drop).delete_on == dt.date(2027, 7, 20)
        reasons = [
            e.data["because"]
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.kind == "retention.date-changed")
            )
        ]
        assert sorted(reasons) == ["review-declined", "review-kept"]
    assert tess.get(f"items/{keep}/review").status_code == 409  # answered: nothing to review


def test_admin_enters_graduation_dates(app: Flask, browser: Browser, new_browser: Any) -> None:
    launch(new_browser(), "s-anna")  # the tool knows Anna once she has launched
    adam = launch(browser, "a-adam")
    refused = adam.post("admin/graduations", {"csv": "user_id,graduation_date\nnobody,2028-06-30"})
    assert refused.status_code == 400 and "nobody known as nobody" in text(refused)
    saved = adam.post("admin/graduations", {"csv": "user_id,graduation_date\ns-anna,2028-06-30"})
    assert saved.status_code == 303
    with app.extensions["lti_tool"].db.transaction() as session:
        anna = session.scalars(select(Person).where(Person.sub == "s-anna")).one()
        assert anna.graduation_date == dt.date(2028, 6, 30)


@pytest.mark.parametrize("path", ["admin/ages", "admin/graduations"])
def test_admin_csv_imports_refuse_what_they_cannot_read(
    app: Flask, browser: Browser, new_browser: Any, path: str
) -> None:
    """Uploaded files that are not UTF-8 text, and teachers, get a clear refusal; nothing is
    stored."""
    launch(new_browser(), "s-anna")
    tess = launch(new_browser(), "t-tess")
    adam = launch(browser, "a-adam")
    latin1 = (io.BytesIO("user_id,date\ns-anna,2011-02-03 Zoë".encode("latin-1")), "a.csv")
    bad = adam.post(path, {"file": latin1}, content_type="multipart/form-data")
    assert bad.status_code == 400 and "not UTF-8 text" in text(bad)
    assert tess.post(path, {"csv": "user_id,birth_date\ns-anna,2011-02-03"}).status_code == 403
    with app.extensions["lti_tool"].db.transaction() as session:
        anna = session.scalars(select(Person).where(Person.sub == "s-anna")).one()
        assert (anna.birth_date, anna.graduation_date) == (None, None)


def test_admin_imports_birth_dates(app: Flask, browser: Browser, new_browser: Any) -> None:
    launch(new_browser(), "s-anna")
    adam = launch(browser, "a-adam")
    refused = adam.post("admin/ages", {"csv": "user_id,birth_date\ns-anna,31-12-2011"})
    assert refused.status_code == 400
    assert "Line 2: birth_date 31-12-2011 is not a date like 2011-12-31" in text(refused)
    adam.get("?lang=nl")
    dutch = text(adam.post("admin/ages", {"csv": "email,birth_date\nx@example.org,2011-01-01"}))
    assert "Regel 2: niemand bekend als x@example.org" in dutch
    assert "De eerste regel moet" in text(adam.post("admin/ages", {"csv": "name\nAnna"}))
    csv_file = (io.BytesIO(b"user_id,birth_date\ns-anna,2011-12-31\n"), "ages.csv")
    saved = adam.post("admin/ages", {"file": csv_file}, content_type="multipart/form-data")
    assert saved.status_code == 303
    with app.extensions["lti_tool"].db.transaction() as session:
        anna = session.scalars(select(Person).where(Person.sub == "s-anna")).one()
        assert anna.birth_date == dt.date(2011, 12, 31)


def test_g1_item_of_graduated_students_gets_its_date_when_set_up(app: Flask, tess: User) -> None:
    """Graduation dates known before the item exists: it is scheduled at once (G1.3)."""
    with app.extensions["lti_tool"].db.transaction() as session:
        students = session.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.roles.is_not(None))
        ).all()
        learners = [p for p in students if p.sub.startswith("s-")]
        assert len(learners) >= 3
        for n, person in enumerate(learners):
            person.graduation_date = dt.date(2028, 6, 20 + n % 5)
    g1 = {
        "title": "Presentations week 12",
        "made": "recording",
        "recognisable": ["teacher", "students"],
        "purpose": "assessment",
        "audience": "class",
        "teacher_location": "school",
        "scope": "course",
        "confirm": ["G1.1", "G1.2", "G1.3"],
        "action": "create",
    }
    created = tess.post("items/new", g1)
    assert created.status_code == 303, text(created)
    latest = max(p.graduation_date for p in learners if p.graduation_date)
    with app.extensions["lti_tool"].db.transaction() as session:
        item = session.get_one(Item, created_id(created))
        assert item.delete_on == latest.replace(year=latest.year + 2)
        assert item.review_on is None


def test_editing_a_kept_item_keeps_its_review_date(app: Flask, tess: User) -> None:
    keep = _instruction(app, tess, "How to titrate", dt.date(2027, 7, 25))
    with app.extensions["lti_tool"].db.transaction() as session:  # set up a year ago
        session.get_one(Item, keep).set_up_on = dt.date(2026, 7, 25)
    assert tess.post(f"items/{keep}/review", {"keep": "yes"}).status_code == 303
    edited = tess.post(
        f"items/{keep}/edit", {**G4_OWN, "title": "How to titrate (2)", "action": "create"}
    )
    assert edited.status_code == 303, text(edited)
    with app.extensions["lti_tool"].db.transaction() as session:
        item = session.get_one(Item, keep)
        assert item.title == "How to titrate (2)"
        assert item.review_on == dt.date(2028, 7, 20)
