"""Development LMS: Names and Role Provisioning Services 2.0 with Link-header paging."""

from __future__ import annotations

import dataclasses
import re

import pytest

from lti_tool.devlms import claims as c
from lti_tool.devlms import create_devlms_app

ISSUER = "http://localhost:5001"
URL = "/nrps/course-1/memberships"


@pytest.fixture
def app(tmp_path):
    app = create_devlms_app(str(tmp_path), ISSUER)
    app.extensions["devlms"].add_tool("tool-1", "dep-1", "http://127.0.0.1:5000")
    return app


@pytest.fixture
def lms(app):
    return app.extensions["devlms"]


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(lms, scopes=frozenset({c.NRPS_SCOPE}), client_id="tool-1"):
    token, _ = lms.tokens.issue_access_token(client_id, scopes)
    return {"Authorization": f"Bearer {token}"}


def next_url(response):
    match = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers.get("Link", ""))
    return match.group(1) if match else None


def fetch_all(client, url, headers):
    """Follow the next links exactly as given; (member ids, page count)."""
    ids, pages = [], 0
    while url:
        response = client.get(url.removeprefix(ISSUER), headers=headers)
        assert response.status_code == 200, response.json
        assert response.content_type == c.NRPS_MEDIA_TYPE
        ids += [m["user_id"] for m in response.json["members"]]
        pages += 1
        url = next_url(response)
    return ids, pages


def test_full_roster_without_paging(lms, client):
    response = client.get(URL, headers=bearer(lms))
    body = response.json
    assert body["context"] == {
        "id": "course-1",
        "label": "BIO-4A",
        "title": "Demo course: Biology 4A",
    }
    assert body["id"].endswith(URL)
    assert "Link" not in response.headers
    members = {m["user_id"]: m for m in body["members"]}
    assert len(members) == 10
    assert members["s-sam"] == {
        "user_id": "s-sam",
        "status": "Active",
        "name": "Sam Meijer",
        "given_name": "Sam",
        "family_name": "Meijer",
        "email": "sam.meijer@school.example",
        "roles": [c.ROLE_LEARNER],
    }
    assert members["p-petra"]["roles"] == [c.ROLE_MENTOR]


def test_paging_with_limit_returns_everyone(lms, client):
    headers = bearer(lms)
    everyone, _ = fetch_all(client, URL, headers)
    paged, pages = fetch_all(client, f"{URL}?limit=2", headers)
    assert paged == everyone and pages == 5


def test_page_token_is_case_sensitive(lms, client):
    headers = bearer(lms)
    first = client.get(f"{URL}?limit=2", headers=headers)
    url = next_url(first)
    token = url.split("p=", 1)[1]
    assert re.search("[A-Z]", token)  # a client that lower-cases the URL breaks
    assert client.get(url.removeprefix(ISSUER), headers=headers).status_code == 200
    broken = client.get(url.lower().removeprefix(ISSUER), headers=headers)
    assert broken.status_code == 400
    assert broken.json["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("Learner", {"s-anna", "s-bram", "s-chloe", "s-daan", "s-eva", "s-finn", "s-sam"}),
        (c.ROLE_INSTRUCTOR, {"t-tess", "ta-tom"}),
        ("Mentor", {"p-petra"}),
    ],
)
def test_role_filter(lms, role, expected, client):
    ids, _ = fetch_all(client, f"{URL}?role={role.replace('#', '%23')}&limit=3", bearer(lms))
    assert set(ids) == expected and len(ids) == len(expected)


def test_removed_members_disappear_or_become_inactive(lms, client):
    lms.remove_member("course-1", "s-finn")
    lms.remove_member("course-1", "s-eva", keep_inactive=True)
    members = {m["user_id"]: m for m in client.get(URL, headers=bearer(lms)).json["members"]}
    assert "s-finn" not in members
    assert members["s-eva"]["status"] == "Inactive"


def test_personal_fields_follow_the_registered_claims(lms, client):
    lms.tools.save(dataclasses.replace(lms.tool("tool-1"), claims=["sub"]))
    member = client.get(URL, headers=bearer(lms)).json["members"][0]
    assert set(member) == {"user_id", "status", "roles"}


def test_other_course_and_errors(lms, client):
    ids, _ = fetch_all(client, "/nrps/course-2/memberships", bearer(lms))
    assert ids == ["t-tess", "s-gijs"]
    assert client.get("/nrps/course-9/memberships", headers=bearer(lms)).status_code == 404
    assert client.get(f"{URL}?limit=0", headers=bearer(lms)).status_code == 400


def test_page_token_of_another_client_is_refused(lms, client):
    url = next_url(client.get(f"{URL}?limit=2", headers=bearer(lms)))
    lms.add_tool("tool-2", "dep-2", "http://127.0.0.1:5000")
    other = bearer(lms, client_id="tool-2")
    assert client.get(url.removeprefix(ISSUER), headers=other).status_code == 400


def test_bearer_token_required_with_scope(lms, client):
    missing = client.get(URL)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get(URL, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    scoped = client.get(URL, headers=bearer(lms, scopes=frozenset({"other"})))
    assert scoped.status_code == 403
    assert scoped.json["error"] == "insufficient_scope"
