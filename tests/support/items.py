"""Helpers for item tests: a launched user posting the tool's own forms, and row counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from lti_tool.web.sessions import csrf_token
from tests.support.browser import Browser

TODAY = "2027-03-15"  # the tool's date in item tests (setting ``today``)


@dataclass
class User:
    """Someone launched into a course: their browser and session id."""

    browser: Browser
    sid: str

    def url(self, path: str = "") -> str:
        return f"/s/{self.sid}/{path}"

    def get(self, path: str = "", **kwargs: Any) -> TestResponse:
        return self.browser.client.get(self.url(path), **kwargs)

    def csrf(self) -> str:
        """The session's CSRF token, as the tool puts it into its forms."""
        with self.browser.client.application.test_request_context():
            return csrf_token(self.sid)

    def post(
        self, path: str, data: dict[str, Any], *, csrf: bool = True, **kwargs: Any
    ) -> TestResponse:
        data = dict(data)
        if csrf:
            data["csrf_token"] = self.csrf()
        return self.browser.client.post(self.url(path), data=data, **kwargs)


def launch(browser: Browser, user: str, course: str = "course-1", lang: str = "en") -> User:
    """Launch ``user`` and pick the page language (a cookie, as the language switch does)."""
    launched = browser.launch(user, course)
    assert launched.response.status_code == 303, launched.response.get_data(as_text=True)
    found = User(browser, launched.sid)
    found.get(f"?lang={lang}")
    return found


def count(app: Flask, model: type, *where: Any) -> int:
    """How many rows of ``model`` there are (matching ``where``)."""
    with app.extensions["lti_tool"].db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def created_id(response: TestResponse) -> int:
    """The id of the item a successful wizard post created (from its redirect)."""
    found = re.search(r"/items/(\d+)", response.headers["Location"])
    assert found is not None, response.headers["Location"]
    return int(found.group(1))


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


G2_LIVE_LESSON = {
    "title": "Lesson 3 live",
    "made": "stream",
    "recognisable": ["teacher", "students"],
    "purpose": "remote-lesson",
    "audience": "class",
    "teacher_location": "school",
    "scope": "course",
    "confirm": ["G2.1", "G2.2", "G2.3", "G2.4", "G2.5"],
}
