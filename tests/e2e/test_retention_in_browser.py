"""Retention in headless Chromium: the teacher's notice of what goes within two weeks and the
yearly review, answered with the keyboard, both free of serious axe violations."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Frame, Page, expect

from lti_tool.devlms.platform import DevLms
from lti_tool.items.models import Item
from tests.e2e.conftest import screenshot
from tests.support.browser import Browser
from tests.support.items import G2_LIVE_LESSON, created_id, launch


@pytest.fixture
def tool_settings(tool_settings: dict[str, Any]) -> dict[str, Any]:
    return {**tool_settings, "today": "2027-07-20"}


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


def test_notice_and_review_in_the_browser(
    page: Page, app: Flask, registered: DevLms, browser: Browser
) -> None:
    tess = launch(browser, "t-tess")
    assert tess.post("items/new", {**G2_LIVE_LESSON, "action": "create"}).status_code == 303
    created = tess.post(
        "items/new",
        {
            "title": "Titreren",
            "made": "recording",
            "recognisable": ["teacher"],
            "purpose": "instruction",
            "audience": "cohort",
            "teacher_location": "private",
            "scope": "course",
            "confirm": ["G4.1", "G4.2", "G4.3"],
            "action": "create",
        },
    )
    item_id = created_id(created)
    with app.extensions["lti_tool"].db.transaction() as session:
        session.get_one(Item, item_id).review_on = dt.date(2027, 7, 25)

    frame = _tool_frame(page, registered, "t-tess")
    notice = frame.locator("#retention-title")
    expect(notice).to_have_text("Verwijderingen en beoordelingen die eraan komen")
    assert "Lesson 3 live" in frame.inner_text("main")
    assert _serious(frame) == []
    screenshot(page, "retention-notices")
    frame.get_by_role("link", name="“Titreren” beoordelen").click()
    frame.wait_for_selector("#review-title")
    assert _serious(frame) == []
    frame.get_by_label("Nee, verwijder het nu").focus()
    page.keyboard.press("Space")
    frame.get_by_role("button", name="Antwoord opslaan").focus()
    page.keyboard.press("Enter")
    frame.wait_for_url(re.compile(r"/s/[^/]+/$"))
    with app.extensions["lti_tool"].db.transaction() as session:
        assert session.get_one(Item, item_id).delete_on == dt.date(2027, 7, 20)
