"""A scripted browser for launches: the tool's test client for our side, plain HTTP to the
development LMS for the platform's side, following the real OIDC round trip."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import requests
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from lti_tool.devlms.platform import DevLms


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action") or "",
                    "method": (a.get("method") or "get").lower(),
                    "fields": {},
                }
            )
        elif tag == "input" and self.forms and a.get("name"):
            if a.get("type") in {"radio", "checkbox"} and "checked" not in a:
                return  # as a browser: only checked choices are sent
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def parse_form(html: str, index: int = 0) -> dict[str, Any]:
    """The ``index``-th form of a page: action, method and its named inputs."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms[index]


@dataclass
class Launch:
    """The outcome of a launch: the tool's answer to the launch POST and, if it redirected,
    the page it landed on."""

    response: TestResponse
    page: TestResponse | None = None
    id_token: str = ""
    state: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def sid(self) -> str:
        location = self.response.headers["Location"]
        return urlsplit(location).path.split("/")[2]


class Browser:
    """One browser (one cookie jar) launching the tool from the development LMS."""

    def __init__(self, client: FlaskClient, lms: DevLms, language: str = "en"):
        self.client = client
        self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        self.lms = lms

    def login(self, user: str, course: str = "course-1", **kwargs: Any) -> TestResponse:
        """Step 1: the platform's login initiation; returns the tool's redirect."""
        url, params = self.lms.login_initiation(user, course, **kwargs)
        return self.client.get(urlsplit(url).path, query_string=params)

    def authorize(self, login_response: TestResponse) -> dict[str, str]:
        """Step 2: the platform's authorization endpoint; returns the form it posts back."""
        assert login_response.status_code == 302, login_response.get_data(as_text=True)
        answer = requests.get(login_response.headers["Location"], timeout=10)
        assert answer.status_code == 200, answer.text
        return parse_form(answer.text)["fields"]

    def post_launch(self, fields: dict[str, str], follow: bool = True) -> Launch:
        """Step 3: post id_token and state to the tool; follow its redirect once."""
        response = self.client.post("/lti/launch", data=fields)
        launch = Launch(
            response, id_token=fields.get("id_token", ""), state=fields.get("state", "")
        )
        if follow and response.status_code == 303:
            launch.page = self.client.get(response.headers["Location"])
        return launch

    def launch(self, user: str, course: str = "course-1", **kwargs: Any) -> Launch:
        """A complete launch as ``user`` in ``course``."""
        return self.post_launch(self.authorize(self.login(user, course, **kwargs)))
