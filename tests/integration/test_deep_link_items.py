"""Deep linking one item into the course: the teacher picks it, the platform stores the link,
and a launch of that link opens the item for those who may see it — and only for them."""

from __future__ import annotations

import re
from typing import Any

import jwt
import pytest
import requests
from flask import Flask
from sqlalchemy import select

from lti_tool.audit.models import AuditEvent
from lti_tool.devlms.platform import DevLms
from lti_tool.lti.context import build_context
from tests.support.browser import Browser, Launch, parse_form
from tests.support.fixtures import CLIENT_ID
from tests.support.items import TODAY, User, launch, text
from tests.support.streams import STUDENTS, create_item, section_a_stream

CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
UNAVAILABLE = "The recording or stream this link opens is not available to you."
UNAVAILABLE_NL = "De opname of stream die deze link opent is niet voor jou beschikbaar."


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {
        **tool_settings,
        "today": TODAY,
        "rtmp_url": "rtmp://127.0.0.1:19350/live",
        "hls_url": "http://127.0.0.1:18088/hls",
    }


@pytest.fixture
def tess(browser: Browser, new_browser: Any) -> User:
    """The teacher, after every student of course-1 launched once (sections, groups, roster)."""
    for student in STUDENTS:
        launch(new_browser(), student)
    return launch(browser, "t-tess")


@pytest.fixture
def item_id(app: Flask, tess: User) -> int:
    return section_a_stream(app, tess)


def _deep_link_page(browser: Browser) -> Launch:
    launched = browser.launch("t-tess", message_type="LtiDeepLinkingRequest")
    assert launched.page is not None and launched.page.status_code == 200
    return launched


def _place(lms: DevLms, browser: Browser, target: str, title: str = "") -> str:
    """The teacher places ``target`` through the deep-linking page; the LMS accepts it.
    Returns the new placement's id."""
    launched = _deep_link_page(browser)
    form = parse_form(text(launched.page))  # type: ignore[arg-type]
    answer = browser.client.post(
        form["action"], data={**form["fields"], "target": target, "title": title}
    )
    assert answer.status_code == 200, text(answer)
    back = parse_form(text(answer))
    claims = jwt.decode(back["fields"]["JWT"], options={"verify_signature": False})
    (item,) = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["custom"] == {"lti_tool_item": target}
    before = {p.id for p in lms.placements.in_course("course-1")}
    accepted = requests.post(back["action"], data={"JWT": back["fields"]["JWT"]}, timeout=10)
    assert accepted.status_code == 200, accepted.text
    (placed,) = [p for p in lms.placements.in_course("course-1") if p.id not in before]
    assert placed.custom == {"lti_tool_item": target}
    return placed.id


def _open(new_browser: Any, user: str, placement_id: str) -> Launch:
    launched = new_browser().launch(user, placement_id=placement_id)
    assert launched.response.status_code == 303
    return launched


def test_the_deep_link_page_lists_the_course_items(tess: User, item_id: int) -> None:
    page = text(_deep_link_page(tess.browser).page)  # type: ignore[arg-type]
    assert "<fieldset>" in page and "<legend>What the link opens</legend>" in page
    assert re.search(rf'<input type="radio" id="dl-target-{item_id}" name="target"', page)
    assert f'<label for="dl-target-{item_id}">Section A live' in page
    assert 'value="course" checked' in page


def test_a_student_of_the_audience_lands_on_the_player(
    app: Flask, lms: DevLms, tess: User, item_id: int, new_browser: Any
) -> None:
    placement = _place(lms, tess.browser, str(item_id))
    assert lms.placements.get(placement).title == "Section A live"  # type: ignore[union-attr]
    anna = _open(new_browser, "s-anna", placement)
    assert anna.response.headers["Location"].endswith(f"/s/{anna.sid}/open")
    assert anna.page is not None and anna.page.status_code == 303
    assert anna.page.headers["Location"].endswith(f"/s/{anna.sid}/items/{item_id}/watch")
    with app.extensions["lti_tool"].db.transaction() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "deep_link.placed"))
        assert [e.data["item_id"] for e in events] == [item_id]


def test_the_player_opens_for_the_student_who_clicked(
    lms: DevLms, tess: User, item_id: int, new_browser: Any
) -> None:
    placement = _place(lms, tess.browser, str(item_id), title="Watch lesson 3")
    browser = new_browser()
    launched = browser.launch("s-anna", placement_id=placement)
    assert launched.page is not None
    player = browser.client.get(launched.page.headers["Location"])
    assert player.status_code == 200 and "Section A live" in text(player)


def test_the_teacher_lands_on_the_item_page(
    lms: DevLms, tess: User, item_id: int, new_browser: Any
) -> None:
    placement = _place(lms, tess.browser, str(item_id))
    launched = _open(new_browser, "t-tess", placement)
    assert launched.page is not None
    assert launched.page.headers["Location"].endswith(f"/items/{item_id}")


def test_a_recording_opens_on_its_page(lms: DevLms, tess: User, new_browser: Any) -> None:
    recording = create_item(
        tess,
        title="Photosynthesis",
        made="recording",
        recognisable=["teacher"],
        purpose="instruction",
        audience="cohort",
        teacher_location="private",
        confirm=["G4.1", "G4.2", "G4.3"],
    )
    placement = _place(lms, tess.browser, str(recording))
    launched = _open(new_browser, "s-anna", placement)
    assert launched.page is not None
    assert launched.page.headers["Location"].endswith(f"/items/{recording}")


def test_a_student_outside_the_audience_lands_home_with_a_notice(
    lms: DevLms, tess: User, item_id: int, new_browser: Any
) -> None:
    placement = _place(lms, tess.browser, str(item_id))
    browser = new_browser()
    daan = browser.launch("s-daan", placement_id=placement)  # section B
    assert daan.page is not None
    home = daan.page.headers["Location"]
    assert home.endswith(f"/s/{daan.sid}/?notice=item-unavailable")
    page = browser.client.get(home)  # in Daan's language (Dutch) from the launch
    assert page.status_code == 200 and UNAVAILABLE_NL in text(page)
    assert "Section A live" not in text(page)
    english = browser.client.get(home + "&lang=en")
    assert english.status_code == 200 and UNAVAILABLE in text(english)


def test_an_item_of_another_course_cannot_be_placed(
    lms: DevLms, tess: User, item_id: int, new_browser: Any
) -> None:
    other = create_item(launch(new_browser(), "t-tess", "course-2"), title="Physics live")
    launched = _deep_link_page(tess.browser)
    assert "Physics live" not in text(launched.page)  # type: ignore[arg-type]
    form = parse_form(text(launched.page))  # type: ignore[arg-type]
    for forged in (str(other), "999999", "abc"):
        answer = tess.browser.client.post(
            form["action"], data={**form["fields"], "target": forged, "title": "x"}
        )
        assert answer.status_code == 404
        assert "JWT" not in text(answer)


def test_a_placement_naming_another_course_item_opens_nothing(
    lms: DevLms, tess: User, item_id: int, new_browser: Any
) -> None:
    other = create_item(launch(new_browser(), "t-tess", "course-2"), title="Physics live")
    placement = lms.placements.add(
        "course-1",
        CLIENT_ID,
        title="forged",
        url=None,
        text="",
        custom={"lti_tool_item": str(other)},
    )
    for user in ("s-anna", "t-tess"):
        launched = _open(new_browser, user, placement.id)
        assert launched.page is not None
        assert launched.page.headers["Location"].endswith("/?notice=item-unavailable")


def test_a_tampered_item_id_is_ignored(
    lms: DevLms, tess: User, item_id: int, new_browser: Any
) -> None:
    for value in (f"{item_id}x", f" {item_id}", "-1", "0", "$Canvas.item", "１"):
        placement = lms.placements.add(
            "course-1", CLIENT_ID, title="odd", url=None, text="", custom={"lti_tool_item": value}
        )
        launched = _open(new_browser, "s-anna", placement.id)
        assert launched.response.headers["Location"].endswith(f"/s/{launched.sid}/")
        assert launched.page is not None and launched.page.status_code == 200
        assert UNAVAILABLE not in text(launched.page)
        assert UNAVAILABLE_NL not in text(launched.page)


def test_the_context_reads_only_plain_integers() -> None:
    base = {
        "iss": "i",
        "aud": "a",
        "sub": "s",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "d",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
    }
    for value, expected in (("42", 42), ("4x", None), ("", None), (42, None), ("0", None)):
        ctx = build_context(1, "devlms", {**base, CUSTOM: {"lti_tool_item": value}})
        assert ctx.target_item_id == expected
    assert build_context(1, "devlms", base).target_item_id is None
