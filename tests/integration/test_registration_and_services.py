"""Dynamic Registration, keys, configuration pages, names-and-roles and deep linking,
against the development LMS over real HTTP."""

from __future__ import annotations

from urllib.parse import urlencode

import jwt
import pytest
import requests
from flask import Flask
from sqlalchemy import select

from lti_tool.access.models import Membership, Person
from lti_tool.devlms.platform import DevLms
from lti_tool.lti.dynamic_registration import create_invite
from lti_tool.lti.models import Deployment, DeploymentStatus, Registration
from tests.support.browser import Browser, parse_form


def _base(app: Flask) -> str:
    return app.extensions["lti_tool"].settings.base_url


def test_dynamic_registration_then_launch(app: Flask, lms: DevLms) -> None:
    tool = lms.register_tool(_base(app) + "/lti/register")
    with app.extensions["lti_tool"].db.transaction() as session:
        registration = session.scalar(select(Registration))
        assert registration is not None
        assert registration.issuer == lms.issuer and registration.client_id == tool.client_id
        deployment = session.scalar(select(Deployment))
        assert deployment is not None and deployment.status == DeploymentStatus.APPROVED
    browser = Browser(app.test_client(), lms)
    launch = browser.launch("s-bram")
    assert launch.response.status_code == 303
    assert launch.page is not None and launch.page.status_code == 200


def test_registration_page_tells_the_platform_to_close(app: Flask, lms: DevLms) -> None:
    query = urlencode(
        {
            "openid_configuration": lms.url("/.well-known/openid-configuration"),
            "registration_token": lms.tokens.issue_registration_token(),
        }
    )
    page = app.test_client().get(f"/lti/register?{query}")
    assert page.status_code == 200
    assert "lti-close.js" in page.get_data(as_text=True)
    script = app.test_client().get("/static/js/lti-close.js").get_data(as_text=True)
    assert "org.imsglobal.lti.close" in script


def test_invite_registers_once(app: Flask, lms: DevLms) -> None:
    with app.extensions["lti_tool"].db.transaction() as session:
        token = create_invite(session, hours=1)
    lms.register_tool(f"{_base(app)}/lti/register/{token}")
    with pytest.raises(Exception, match="403"):
        lms.register_tool(f"{_base(app)}/lti/register/{token}")


def test_registration_with_unreachable_or_junk_configuration_is_502(app: Flask) -> None:
    client = app.test_client()
    down = urlencode(
        {"openid_configuration": "http://127.0.0.1:1/.well-known/openid-configuration"}
    )
    assert client.get(f"/lti/register?{down}").status_code == 502
    junk = urlencode({"openid_configuration": _base(app) + "/lti/canvas.json"})
    assert client.get(f"/lti/register?{junk}").status_code == 502
    assert client.get("/lti/register").status_code == 400
    bad = urlencode({"openid_configuration": "ftp://x/y"})
    assert client.get(f"/lti/register?{bad}").status_code == 400
    with app.extensions["lti_tool"].db.transaction() as session:
        assert session.scalar(select(Registration)) is None  # nothing half-stored


def test_jwks_publishes_previous_key_until_retired(app: Flask) -> None:
    from lti_tool.lti.keys import create_key, retire_previous

    client = app.test_client()
    first = {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]}
    with app.extensions["lti_tool"].db.transaction() as session:
        create_key(session)
    both = {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]}
    assert first < both and len(both) == 2
    with app.extensions["lti_tool"].db.transaction() as session:
        retire_previous(session)
    last = {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]}
    assert len(last) == 1 and not (last & first)
    for key in client.get("/.well-known/jwks.json").json["keys"]:
        assert set(key) >= {"kty", "n", "e", "kid", "alg"} and "d" not in key


def test_canvas_json_and_config_page(app: Flask) -> None:
    client = app.test_client()
    data = client.get("/lti/canvas.json").json
    assert data["oidc_initiation_url"].endswith("/lti/login")
    assert data["custom_fields"]["canvas_section_ids"] == "$Canvas.course.sectionIds"
    placements = {p["placement"] for p in data["extensions"][0]["settings"]["placements"]}
    assert {"course_navigation", "link_selection"} <= placements
    page = client.get("/lti/config", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "/.well-known/jwks.json" in page and "/lti/login" in page


def test_roster_sync_follows_paging_and_deactivates_leavers(app: Flask, browser: Browser) -> None:
    from lti_tool.access.queries import find_course
    from lti_tool.access.roster import sync_course
    from lti_tool.lti import services

    browser.launch("t-tess")
    rt = app.extensions["lti_tool"]
    real_fetch = services.fetch_members

    with app.app_context(), rt.db.transaction() as session:
        course = find_course(session, 1, "course-1")
        assert course is not None and course.nrps_url
        registration = session.get(Registration, 1)
        members = real_fetch(session, rt.store, rt.http, registration, course.nrps_url, limit=2)
        assert len(members) == 10  # teacher, assistant, 7 students, parent
        counts = sync_course(session, rt, course)
        assert counts["active"] == 10
    browser.lms.remove_member("course-1", "s-finn")
    with app.app_context(), rt.db.transaction() as session:
        course = find_course(session, 1, "course-1")
        assert course is not None
        assert sync_course(session, rt, course)["deactivated"] == 1
        finn = session.scalar(select(Membership).join(Person).where(Person.sub == "s-finn"))
        assert finn is not None and not finn.active


def test_teacher_syncs_roster_from_the_page(browser: Browser) -> None:
    launch = browser.launch("t-tess")
    assert launch.page is not None
    form = parse_form(launch.page.get_data(as_text=True))
    response = browser.client.post(form["action"], data=form["fields"])
    assert response.status_code == 303
    page = browser.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Finn" in page and "Eva" in page


def test_deep_linking_returns_a_signed_response_the_platform_accepts(browser: Browser) -> None:
    launch = browser.launch("t-tess", message_type="LtiDeepLinkingRequest")
    assert launch.response.status_code == 303 and launch.page is not None
    form = parse_form(launch.page.get_data(as_text=True))
    answer = browser.client.post(form["action"], data={**form["fields"], "title": "Opnames 4A"})
    assert answer.status_code == 200
    back = parse_form(answer.get_data(as_text=True))
    token = back["fields"]["JWT"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (
        claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    )
    accepted = requests.post(back["action"], data={"JWT": token}, timeout=10)
    assert accepted.status_code == 200, accepted.text
    assert "Opnames 4A" in accepted.text


def test_student_cannot_deep_link(browser: Browser) -> None:
    """Even if a platform sent a student a deep-linking launch, the tool refuses to place."""
    fields = browser.authorize(browser.login("t-tess", message_type="LtiDeepLinkingRequest"))
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    claims["sub"] = "s-anna"
    claims["https://purl.imsglobal.org/spec/lti/claim/roles"] = [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    ]
    fields["id_token"] = browser.lms.sign(claims)
    launch = browser.post_launch(fields)
    assert launch.response.status_code == 303
    assert launch.page is not None and launch.page.status_code == 403
    response = browser.client.post(f"/s/{launch.sid}/deep-link", data={"title": "x"})
    assert response.status_code == 403
