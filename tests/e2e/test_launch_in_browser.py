"""Real launches in headless Chromium: the development LMS shows the tool in an iframe."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Frame, Page

from lti_tool.devlms.platform import DevLms
from tests.e2e.conftest import screenshot


def _tool_frame(page: Page, lms: DevLms, user: str) -> Frame:
    page.goto(lms.url(f"/course/course-1?user={user}"))
    handle = page.wait_for_selector("iframe")
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_url(re.compile(r"/s/[^/]+/$"), timeout=15_000)  # past the launch pages
    frame.wait_for_selector("main h1", timeout=15_000)
    return frame


def test_teacher_student_and_parent_see_their_pages(page: Page, registered: DevLms) -> None:
    teacher = _tool_frame(page, registered, "t-tess")
    assert "Tess de Vries" in teacher.inner_text("header")
    screenshot(page, "teacher-home")
    student = _tool_frame(page, registered, "s-anna")
    assert student.inner_text("main h1")
    screenshot(page, "student-home")
    parent = _tool_frame(page, registered, "p-petra")
    assert parent.inner_text("main h1")
    screenshot(page, "parent-home")


def test_language_switch_in_the_frame(page: Page, registered: DevLms) -> None:
    frame = _tool_frame(page, registered, "t-tess")
    frame.get_by_role("link", name="English").click()
    frame.wait_for_selector("html[lang=en]")
    assert "Recordings and streams in this course" in frame.inner_text("main")
    frame.get_by_role("link", name="Nederlands").click()
    frame.wait_for_selector("html[lang=nl]")
    assert "Opnames en streams in deze cursus" in frame.inner_text("main")


def test_pages_have_no_serious_accessibility_violations(page: Page, registered: DevLms) -> None:
    for user in ("t-tess", "s-anna", "p-petra", "a-adam"):
        frame = _tool_frame(page, registered, user)
        results = Axe().run(frame)  # the tool's page inside the LMS frame, with its cookies
        serious = [
            v["id"]
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], (user, serious)
