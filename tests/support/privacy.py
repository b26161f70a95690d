"""Shared data of the privacy tests: people of course-1 launched, and a G1, a G2 and a G3
item with consent of Anna and of Sam's parent (Bram did not answer)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from lti_tool.access.models import Person
from lti_tool.consent.models import ConsentRequest
from lti_tool.privacy.models import PrivacyOutcome
from tests.support.browser import Browser
from tests.support.items import G2_LIVE_LESSON, TODAY, User, created_id, launch, text

STUDENTS = ("s-anna", "s-bram", "s-sam")
G1_ASSESSMENT = {
    "title": "Presentations week 12",
    "made": "recording",
    "recognisable": ["teacher", "students"],
    "purpose": "assessment",
    "audience": "class",
    "teacher_location": "school",
    "scope": "course",
    "confirm": ["G1.1", "G1.2", "G1.3"],
}
G3_DEMO = {
    "title": "Open day video",
    "made": "recording",
    "recognisable": ["students"],
    "purpose": "wider-audience",
    "audience": "institution",
    "teacher_location": "school",
    "scope": "course",
    "confirm": ["G3.1", "G3.2", "G3.3"],
}


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {**tool_settings, "today": TODAY}


def ids(app: Flask) -> dict[str, int]:
    with app.extensions["lti_tool"].db.transaction() as session:
        # the first registration's people (another registration may know the same user ids)
        rows = session.execute(select(Person.sub, Person.id).order_by(Person.id.desc()))
        return {sub: person_id for sub, person_id in rows}


@pytest.fixture
def people(app: Flask, browser: Browser, new_browser: Any) -> dict[str, User]:
    """Anna, Bram and Sam (14, birth date from the school) launched; Tess, Petra, Adam."""
    users = {sub: launch(new_browser(), sub) for sub in STUDENTS}
    users["t-tess"] = launch(browser, "t-tess")
    users["p-petra"] = launch(new_browser(), "p-petra")
    users["a-adam"] = launch(new_browser(), "a-adam")
    with app.extensions["lti_tool"].db.transaction() as session:
        session.execute(
            update(Person).where(Person.sub == "s-sam").values(birth_date=dt.date(2012, 9, 1))
        )
    return users


def _create(tess: User, form: dict[str, Any]) -> int:
    created = tess.post("items/new", {**form, "action": "create"})
    assert created.status_code == 303, text(created)
    return created_id(created)


def _consent(app: Flask, user: User, item_id: int, person: str) -> None:
    """``user`` answers yes for ``person`` on the request of ``item_id``."""
    page = text(user.get("mine"))
    with app.extensions["lti_tool"].db.transaction() as session:
        request_id = session.scalar(
            select(ConsentRequest.id).where(
                ConsentRequest.item_id == item_id, ConsentRequest.person_id == ids(app)[person]
            )
        )
    found = re.search(
        rf'/consent/requests/{request_id}/answer".*?name="shown" value="(\w+)"', page, re.S
    )
    assert found, page
    answered = user.post(
        f"consent/requests/{request_id}/answer", {"answer": "yes", "shown": found.group(1)}
    )
    assert answered.status_code == 303, text(answered)


@pytest.fixture
def items(app: Flask, people: dict[str, User]) -> dict[str, int]:
    """A G1 assessment, a G2 live lesson (both for the course) and a G3 video that Anna,
    Bram and Sam were asked about; Anna and Sam's parent consented, Bram did not answer."""
    tess = people["t-tess"]
    found = {
        "G1": _create(tess, G1_ASSESSMENT),
        "G2": _create(tess, G2_LIVE_LESSON),
        "G3": _create(tess, G3_DEMO),
    }
    person = ids(app)
    asked = tess.post(
        f"items/{found['G3']}/consent/ask",
        {"person_id": [str(person[s]) for s in STUDENTS]},
    )
    assert asked.status_code == 303, text(asked)
    _consent(app, people["s-anna"], found["G3"], "s-anna")
    _consent(app, people["p-petra"], found["G3"], "s-sam")
    return found


def outcomes_of(app: Flask, request_id: int) -> dict[int, PrivacyOutcome]:
    with app.extensions["lti_tool"].db.transaction() as session:
        rows = session.scalars(
            select(PrivacyOutcome).where(PrivacyOutcome.request_id == request_id)
        )
        return {o.item_id: o for o in rows}


def request_id_of(response: Any) -> int:
    assert response.status_code == 303, text(response)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
