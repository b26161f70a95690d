"""The teacher's setup wizard through the real pages: each kind of item, with and without
JavaScript, and every bad input refused with a clear message and nothing stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.access.models import CourseGroup
from lti_tool.audit.models import AuditEvent
from lti_tool.items.models import Item, ItemAudience
from tests.support.browser import Browser
from tests.support.items import G2_LIVE_LESSON, TODAY, User, count, launch, text


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {**tool_settings, "today": TODAY}


@pytest.fixture
def tess(browser: Browser) -> User:
    return launch(browser, "t-tess")


def _item(app: Flask) -> Item:
    with app.extensions["lti_tool"].db.transaction() as session:
        item = session.scalar(select(Item))
        assert item is not None
        session.expunge(item)
        return item


def _section_id(app: Flask, external_id: str) -> int:
    with app.extensions["lti_tool"].db.transaction() as session:
        found = session.scalar(select(CourseGroup.id).where(CourseGroup.external_id == external_id))
        assert found is not None
        return found


def _nothing_stored(app: Flask) -> None:
    assert count(app, Item) == 0
    assert count(app, ItemAudience) == 0
    assert count(app, AuditEvent, AuditEvent.kind.like("item.%")) == 0


G1_ASSESSMENT = {
    "title": "Presentations week 12",
    "made": "recording",
    "recognisable": ["teacher", "students"],
    "purpose": "assessment",
    "audience": "class",
    "teacher_location": "school",
    "scope": "sections",
    "confirm": ["G1.1", "G1.2", "G1.3"],
}
G3_WIDER = {
    "title": "Open day video",
    "made": "recording",
    "recognisable": ["students"],
    "purpose": "wider-audience",
    "audience": "institution",
    "teacher_location": "school",
    "scope": "course",
    "confirm": ["G3.1", "G3.2", "G3.3"],
}
G4_OWN = {
    "title": "Explaining photosynthesis",
    "made": "recording",
    "recognisable": ["teacher"],
    "purpose": "instruction",
    "audience": "cohort",
    "teacher_location": "private",
    "scope": "course",
    "confirm": ["G4.1", "G4.2", "G4.3"],
}

KINDS = {
    "G1": (
        G1_ASSESSMENT,
        {
            "outcome": "allowed",
            "state": "ready",
            "legal_basis": "legal-task",
            "consent_from": [],
            "delete_on": None,
            "review_on": dt.date(2028, 3, 15),
        },
        [
            "Recordings for assessing students",
            "Legal task of the institution (GDPR art. 6(1)(e))",
            "Nobody: no consent is asked.",
            "Kept until 2 years after the student graduates",
            "March 15, 2028",
            "Only the enrolled students of the class or lesson group",
        ],
    ),
    "G2": (
        G2_LIVE_LESSON,
        {
            "outcome": "allowed",
            "state": "ready",
            "legal_basis": "legitimate-interest",
            "consent_from": [],
            "delete_on": dt.date(2027, 7, 31),
            "review_on": None,
        },
        [
            "Streaming a lesson live for remote education",
            "Legitimate interest of the institution (GDPR art. 6(1)(f))",
            "Nobody: no consent is asked.",
            "Deleted on July 31, 2027.",
            "The camera shows the lesson as it happens",
        ],
    ),
    "G3": (
        G3_WIDER,
        {
            "outcome": "consent-required",
            "state": "awaiting-consent",
            "legal_basis": "consent",
            "consent_from": ["students", "parents-of-under-16"],
            "delete_on": dt.date(2028, 7, 31),
            "review_on": None,
        },
        [
            "Use beyond the class, with consent",
            "Consent of everyone who can be recognised (GDPR art. 6(1)(a) and art. 7)",
            "Students aged 16 or over; Parents or guardians of students under 16",
            "Deleted on July 31, 2028 at the latest, sooner if consent is withdrawn.",
            "Only the audience that consent was given for",
        ],
    ),
    "G4": (
        G4_OWN,
        {
            "outcome": "allowed",
            "state": "ready",
            "legal_basis": "teacher-consent",
            "consent_from": [],
            "delete_on": None,
            "review_on": dt.date(2028, 3, 15),
        },
        [
            "A teacher&#39;s own recordings for their lessons",
            "The teacher chooses this and so gives consent",
            "Reviewed on March 15, 2028: deleted unless the teacher confirms it is still needed.",
            "nobody can require it.",
            "The audience the teacher chooses",
        ],
    ),
}


@pytest.mark.parametrize("rule", sorted(KINDS))
def test_each_kind_is_shown_then_set_up(app: Flask, tess: User, rule: str) -> None:
    answers, expected, shown = KINDS[rule]
    if answers["scope"] == "sections":
        answers = {**answers, "sections": [str(_section_id(app, "sec-A"))]}
    preview = tess.post("items/new", {**answers, "confirm": [], "action": "preview"})
    assert preview.status_code == 200, text(preview)
    html = text(preview)
    assert f'<span class="cite">{rule}</span>' in html
    for phrase in shown:
        assert phrase in html, phrase
    for condition in answers["confirm"]:
        assert f'value="{condition}" required' in html
    assert "Set it up" in html
    _nothing_stored(app)

    created = tess.post("items/new", {**answers, "action": "create"})
    assert created.status_code == 303, text(created)
    item = _item(app)
    assert item.rule == rule
    assert {k: getattr(item, k) for k in expected} == expected
    assert sorted(item.confirmed) == sorted(answers["confirm"])
    assert item.set_up_on == dt.date(2027, 3, 15)
    assert item.decision["pack_version"] == "2020.10-1"
    page = tess.browser.client.get(created.headers["Location"])
    assert page.status_code == 200 and answers["title"] in text(page)
    with app.extensions["lti_tool"].db.transaction() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "item.created"))
        assert event is not None
        assert event.subject == f"item:{item.id}"
        assert event.pack_version == "2020.10-1"
        assert event.actor.endswith(":t-tess") and event.course_id == item.course_id
        assert event.data["rule"] == rule
        assert sorted(event.data["conditions_confirmed"]) == sorted(answers["confirm"])


def test_g4_exam_content_is_deleted_after_two_years(app: Flask, tess: User) -> None:
    answers = {**G4_OWN, "purpose": "exam-content", "teacher_location": "school"}
    answers["confirm"] = ["G4.1", "G4.2"]
    created = tess.post("items/new", {**answers, "action": "create"})
    assert created.status_code == 303, text(created)
    item = _item(app)
    assert (item.rule, item.delete_on, item.review_on) == ("G4", dt.date(2029, 3, 15), None)


def test_g3_audience_of_picked_students(app: Flask, tess: User, new_browser) -> None:
    launch(new_browser(), "s-anna")
    tess.post("roster/sync", {})
    with app.extensions["lti_tool"].db.transaction() as session:
        from lti_tool.access.models import Person

        anna = session.scalar(select(Person.id).where(Person.sub == "s-anna"))
    answers = {**G3_WIDER, "scope": "students", "students": [str(anna)], "action": "create"}
    created = tess.post("items/new", answers)
    assert created.status_code == 303, text(created)
    assert count(app, ItemAudience, ItemAudience.person_id == anna) == 1


def test_refused_setup_explains_why_and_names_the_privacy_officer(app: Flask, tess: User) -> None:
    answers = {**G2_LIVE_LESSON, "purpose": "exam-content", "confirm": []}
    preview = tess.post("items/new", {**answers, "action": "preview"})
    assert preview.status_code == 200
    html = text(preview)
    assert "This cannot be set up: the guideline does not allow it." in html
    assert "Recording students while they take a test or exam" in html
    assert "choose the purpose assessment (G1)" in html  # what would be allowed
    assert "Contact your institution&#39;s privacy officer" in html
    assert "privacy@example.org" in html
    assert "Set it up" not in html
    refused = tess.post("items/new", {**answers, "action": "create"})
    assert refused.status_code == 403
    assert "The guideline does not allow this setup" in text(refused)
    assert "privacy@example.org" in text(refused)
    _nothing_stored(app)


def test_page_offers_live_preview_and_a_button_without_javascript(tess: User) -> None:
    html = text(tess.get("items/new"))
    assert 'aria-live="polite"' in html
    assert "js/item-wizard.js" in html and "<script>" not in html
    assert 'name="action" value="preview" formnovalidate' in html
    assert "Answer the questions above to see which rule of the guideline applies." in html
    assert "Nobody can require you to record or stream from home" in html  # G4.3, always
    assert "(G4.3)" in html
    script = tess.browser.client.get("/static/js/item-wizard.js")
    assert script.status_code == 200 and b"X-CSRF-Token" in script.data


def test_preview_endpoint_returns_the_decision_fragment(app: Flask, tess: User) -> None:
    token = tess.csrf()
    headers = {"X-CSRF-Token": token}
    client = tess.browser.client
    answered = client.post(tess.url("items/preview"), data=G2_LIVE_LESSON, headers=headers)
    assert answered.status_code == 200
    html = text(answered)
    assert "<html" not in html and '<h2 id="decision-title">' in html
    assert '<span class="cite">G2</span>' in html and "Deleted on July 31, 2027." in html
    partial = {"made": "stream", "recognisable": "students"}
    open_ = client.post(tess.url("items/preview"), data=partial, headers=headers)
    assert open_.status_code == 200
    assert "Still to answer:" in text(open_)
    assert "What is it for?; Who will see or hear it?" in text(open_)
    bad = client.post(
        tess.url("items/preview"), data={**G2_LIVE_LESSON, "made": "hologram"}, headers=headers
    )
    assert bad.status_code == 400
    forged = client.post(tess.url("items/preview"), data=G2_LIVE_LESSON)
    assert forged.status_code == 403
    _nothing_stored(app)  # previews are neither stored nor audited


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        (
            {"made": "hologram"},
            400,
            "“hologram” is not a possible answer to “What is made?”.",
        ),
        (
            {"recognisable": ["teacher", "ghosts"]},
            400,
            "“ghosts” is not a possible answer to “Who can be recognised in it?”.",
        ),
        (
            {"purpose": "", "audience": ""},
            400,
            "Answer the question “What is it for?”.",
        ),
        ({"teacher_location": "moon"}, 400, "“moon” is not a possible answer to “Where do"),
        ({"scope": "planet"}, 400, "“planet” is not a possible answer to “Who in this course"),
        ({"title": ""}, 400, "Give it a title."),
        ({"title": "x" * 201}, 400, "The title can be at most 200 characters."),
        ({"confirm": ["G2.1", "G2.3"]}, 400, "Confirm every condition before you continue."),
        ({"confirm": []}, 400, "Confirm every condition before you continue."),
        ({"scope": "sections"}, 400, "Pick at least one for “Who in this course can watch it?”."),
        (
            {"purpose": "assessment", "audience": "assessed", "confirm": ["G1.1", "G1.2", "G1.3"]},
            400,
            "Only the assessed students can watch this",
        ),
        ({"scope": "students", "students": ["99999"]}, 400, "“99999” is not part of this course."),
        ({"purpose": "exam-content"}, 403, "The guideline does not allow this setup."),
    ],
)
def test_bad_input_is_refused_clearly_and_nothing_is_stored(
    app: Flask, tess: User, change: dict[str, Any], status: int, message: str
) -> None:
    response = tess.post("items/new", {**G2_LIVE_LESSON, **change, "action": "create"})
    assert response.status_code == status, text(response)
    assert message in text(response)
    _nothing_stored(app)


def test_missing_answers_are_all_named_and_linked_to_their_fields(app: Flask, tess: User) -> None:
    response = tess.post("items/new", {"title": "t", "action": "create"})
    assert response.status_code == 400
    html = text(response)
    for field, question in [
        ("made", "What is made?"),
        ("recognisable", "Who can be recognised in it?"),
        ("purpose", "What is it for?"),
        ("audience", "Who will see or hear it?"),
    ]:
        assert f'<a href="#{field}-1">Answer the question “{question}”.' in html
        assert f'id="error-{field}"' in html and f'aria-describedby="error-{field}"' in html
    _nothing_stored(app)


def test_section_of_another_course_is_refused(app: Flask, tess: User, new_browser) -> None:
    launch(new_browser(), "t-tess", "course-2")  # the tool learns course-2's section sec-P
    other = _section_id(app, "sec-P")
    response = tess.post(
        "items/new",
        {**G2_LIVE_LESSON, "scope": "sections", "sections": [str(other)], "action": "create"},
    )
    assert response.status_code == 400
    assert f"“{other}” is not part of this course." in text(response)
    _nothing_stored(app)


def test_student_posting_the_teachers_form_is_forbidden(app: Flask, browser: Browser) -> None:
    anna = launch(browser, "s-anna")
    assert anna.get("items/new").status_code == 403
    response = anna.post("items/new", {**G2_LIVE_LESSON, "action": "create"})
    assert response.status_code == 403
    assert "Only teachers of this course can set up recordings and streams." in text(response)
    preview = anna.post("items/preview", G2_LIVE_LESSON)
    assert preview.status_code == 403
    _nothing_stored(app)


def test_form_without_csrf_token_is_refused(app: Flask, tess: User) -> None:
    response = tess.post("items/new", {**G2_LIVE_LESSON, "action": "create"}, csrf=False)
    assert response.status_code == 403
    assert "The form has expired" in text(response)
    _nothing_stored(app)


def test_no_javascript_flow_keeps_answers_and_ticks(tess: User) -> None:
    first = text(tess.post("items/new", {**G2_LIVE_LESSON, "confirm": ["G2.2"], "action": "x"}))
    assert 'value="Lesson 3 live"' in first
    assert 'value="stream" checked' in first and 'value="remote-lesson" checked' in first
    assert 'value="G2.2" required checked' in first
    assert 'value="G2.1" required>' in first


def test_wizard_in_dutch_uses_dutch_questions_and_pack_texts(browser: Browser) -> None:
    tess = launch(browser, "t-tess", lang="nl")
    html = text(tess.post("items/new", {**G2_LIVE_LESSON, "action": "preview"}))
    assert "Wat wordt er gemaakt?" in html
    assert "Een les live streamen voor onderwijs op afstand" in html
    assert "Gerechtvaardigd belang van de instelling" in html
    assert "31 juli 2027" in html
    assert "What is made?" not in html
