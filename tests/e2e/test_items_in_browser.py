"""The setup wizard in headless Chromium inside the development LMS: the rule appears while
the teacher answers (no reload), the item is set up, and the item pages pass axe."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Frame, Page, expect

from lti_tool.devlms.platform import DevLms
from tests.e2e.conftest import screenshot


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {**tool_settings, "today": "2027-03-15"}


def _tool_frame(page: Page, lms: DevLms, user: str) -> Frame:
    page.goto(lms.url(f"/course/course-1?user={user}"))
    frame = page.wait_for_selector("iframe").content_frame()
    assert frame is not None
    frame.wait_for_url(re.compile(r"/s/[^/]+/$"), timeout=15_000)  # past the launch pages
    frame.wait_for_selector("main h1")
    return frame


def _serious(frame: Frame) -> list[str]:
    """Serious or critical axe violations of the tool's document in ``frame`` (the frame
    itself: outside the LMS page the browser would not send the tool's partitioned cookies)."""
    results = Axe().run(frame)
    return [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]


def test_teacher_sees_the_rule_while_answering_and_sets_up_a_live_lesson(
    page: Page, registered: DevLms
) -> None:
    frame = _tool_frame(page, registered, "t-tess")
    frame.get_by_role("link", name="Nieuwe opname of stream").click()
    frame.wait_for_selector("#item-setup")
    frame.evaluate("window.stillTheSamePage = true")
    region = frame.locator("#decision")
    assert "Beantwoord de vragen hierboven" in region.inner_text()
    frame.get_by_label("Titel").fill("Les 3 live")
    frame.get_by_label("Een livestream", exact=True).check()
    frame.get_by_label("De docent").check()
    frame.get_by_label("Studenten", exact=True).first.check()
    frame.get_by_label("Een les op afstand laten doorgaan").check()
    assert "Nog te beantwoorden:" in region.inner_text()
    frame.get_by_label("De klas of lesgroep").check()
    expect(region).to_contain_text("G2.5", timeout=10_000)
    assert frame.evaluate("window.stillTheSamePage") is True  # updated without a reload
    text = region.inner_text()
    assert "Een les live streamen voor onderwijs op afstand" in text
    assert "Gerechtvaardigd belang" in text and "31 juli 2027" in text
    screenshot(page, "wizard-g2")
    for box in frame.locator("#decision input[name=confirm]").all():
        box.check()  # ticking keeps the region (and the keyboard focus) in place
    assert frame.evaluate("document.activeElement.name") == "confirm"
    frame.get_by_role("button", name="Instellen").click()
    frame.wait_for_selector("text=Bevestigde voorwaarden")
    assert "Les 3 live" in frame.inner_text("main h1")
    screenshot(page, "item-g2")


def test_item_pages_have_no_serious_accessibility_violations(
    page: Page, registered: DevLms
) -> None:
    tab = _tool_frame(page, registered, "t-tess")
    tab.get_by_role("link", name="Nieuwe opname of stream").click()
    tab.wait_for_selector("#item-setup")
    assert _serious(tab) == []
    tab.get_by_label("Titel").fill("Open dag")
    tab.get_by_label("Een opname", exact=True).check()
    tab.get_by_label("Studenten", exact=True).first.check()
    tab.get_by_label("Materiaal voor een breder publiek").check()
    tab.get_by_label("Iedereen (openbaar)").check()
    tab.get_by_role("button", name="Laat zien wat geldt").click()
    expect(tab.locator("#decision")).to_contain_text("G3.3")
    assert _serious(tab) == []  # the decision with its required confirmations
    tab.get_by_label("Titel").fill("")
    tab.evaluate("document.getElementById('title').removeAttribute('required')")
    for box in tab.locator("#decision input[name=confirm]").all():
        box.check()
    tab.get_by_role("button", name="Instellen").click()
    expect(tab.locator("#error-summary-title")).to_be_visible()
    assert _serious(tab) == []  # the page with its errors
    tab.get_by_label("Titel").fill("Open dag")
    for box in tab.locator("#decision input[name=confirm]").all():
        box.check()
    tab.get_by_role("button", name="Instellen").click()
    # a G3 item goes on to asking who can be recognised (its consent page)
    expect(tab.get_by_role("heading", name="Toestemming voor “Open dag”")).to_be_visible()
    assert _serious(tab) == []  # the consent page
    student = _tool_frame(page, registered, "s-anna")
    assert "Open dag" not in student.inner_text("main")  # unpublished until everyone consents
    assert _serious(student) == []
    admin = _tool_frame(page, registered, "a-adam")
    admin.get_by_role("link", name="Institution settings").click()  # Adam reads English
    admin.wait_for_selector("#pack-title")
    assert _serious(admin) == []
