"""The privacy pages in headless Chromium inside the development LMS: a student asks for
their data and for erasure, the administrator works the desk and searches the audit log —
with keyboard-reachable controls and no serious axe violations on any of these pages."""

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
    frame.wait_for_url(re.compile(r"/s/[^/]+/$"), timeout=15_000)
    frame.wait_for_selector("main h1")
    return frame


def _serious(frame: Frame) -> list[str]:
    results = Axe().run(frame)
    return [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]


def test_student_pages_and_the_desk_pass_axe(page: Page, registered: DevLms) -> None:
    anna = _tool_frame(page, registered, "s-anna")  # Anna reads Dutch
    anna.get_by_role("link", name="Mijn gegevens en mijn rechten").click()
    expect(anna.get_by_role("heading", name="Mijn gegevens en mijn rechten")).to_be_visible()
    assert _serious(anna) == []
    anna.get_by_role("link", name="Om verwijdering vragen").click()
    expect(anna.get_by_role("button", name="Nu om verwijdering vragen")).to_be_visible()
    assert _serious(anna) == []
    anna.get_by_role("button", name="Nu om verwijdering vragen").focus()
    anna.page.keyboard.press("Enter")  # the request is made with the keyboard alone
    anna.wait_for_url(re.compile(r"/privacy/requests/\d+"))
    expect(anna.get_by_role("heading", name=re.compile("Verwijdering"))).to_be_visible()
    assert _serious(anna) == []

    adam = _tool_frame(page, registered, "a-adam")  # Adam reads English
    adam.get_by_role("link", name="Open the desk").click()
    expect(adam.get_by_role("heading", name="Privacy officer's desk")).to_be_visible()
    expect(adam.locator("#requests").locator("xpath=..")).to_contain_text("Anna Bakker")
    assert _serious(adam) == []
    screenshot(adam.page, "privacy-desk")
    adam.get_by_role("link", name="Search the audit log").click()
    adam.get_by_label("Event kind (exact, or a prefix ending in a dot, e.g. consent.)").fill(
        "privacy."
    )
    adam.get_by_role("button", name="Search").click()
    adam.wait_for_url(re.compile(r"kind=privacy\."))
    adam.wait_for_selector("main table")
    expect(adam.locator("main table")).to_contain_text("privacy.erasure-carried-out")
    assert _serious(adam) == []
    adam.get_by_label("From (YYYY-MM-DD)").fill("2027-03-20")
    adam.get_by_label("To (YYYY-MM-DD)").fill("2027-03-01")
    adam.get_by_role("button", name="Search").click()
    adam.wait_for_url(re.compile(r"until=2027-03-01"))
    expect(adam.locator("main")).to_contain_text("Write dates as YYYY-MM-DD")
