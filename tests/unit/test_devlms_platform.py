"""Development LMS: discovery, keys, OIDC login and the id_token claims."""

from __future__ import annotations

import time

import jwt
import pytest
from click.testing import CliRunner

from lti_tool.devlms import claims as c
from lti_tool.devlms import create_devlms_app
from lti_tool.devlms.cli import devlms
from lti_tool.devlms.forms import parse_autosubmit_form

ISSUER = "http://localhost:5001"
TOOL = "http://127.0.0.1:5000"


@pytest.fixture
def app(tmp_path):
    app = create_devlms_app(str(tmp_path), ISSUER)
    app.extensions["devlms"].add_tool("tool-1", "dep-1", TOOL)
    return app


@pytest.fixture
def lms(app):
    return app.extensions["devlms"]


@pytest.fixture
def client(app):
    return app.test_client()


def auth_request(lms, user_id, course_id="course-1", message_type=c.RESOURCE_LINK_REQUEST, **kw):
    """What the tool sends to /auth after a login initiation for this user."""
    _, params = lms.login_initiation(user_id, course_id, message_type, **kw)
    return {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": params["client_id"],
        "redirect_uri": f"{TOOL}/lti/launch",
        "login_hint": params["login_hint"],
        "lti_message_hint": params["lti_message_hint"],
        "nonce": "nonce-1",
        "state": "state-1",
    }


def verified_claims(client, id_token, audience="tool-1"):
    keys = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json)
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    return jwt.decode(id_token, key, algorithms=["RS256"], audience=audience, issuer=ISSUER)


def launch(client, lms, user_id, method="post", **kw):
    data = auth_request(lms, user_id, **kw)
    response = client.open(
        "/auth",
        method=method,
        data=data if method == "post" else None,
        query_string=data if method == "get" else None,
    )
    assert response.status_code == 200
    form = parse_autosubmit_form(response.text)
    assert form.action == f"{TOOL}/lti/launch" and form.method == "post"
    assert form.fields["state"] == "state-1"
    return verified_claims(client, form.fields["id_token"])


def test_openid_configuration_shape(client):
    conf = client.get("/.well-known/openid-configuration").json
    assert conf["issuer"] == ISSUER
    assert conf["authorization_endpoint"] == f"{ISSUER}/auth"
    assert conf["token_endpoint"] == f"{ISSUER}/token"
    assert conf["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert conf["registration_endpoint"] == f"{ISSUER}/register"
    assert conf["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert conf["token_endpoint_auth_signing_alg_values_supported"] == ["RS256"]
    assert conf["id_token_signing_alg_values_supported"] == ["RS256"]
    assert conf["response_types_supported"] == ["id_token"]
    assert set(conf["subject_types_supported"]) == {"public", "pairwise"}
    assert set(conf["scopes_supported"]) == {"openid", c.NRPS_SCOPE}
    assert {"sub", "name", "email"} <= set(conf["claims_supported"])
    platform = conf[c.PLATFORM_CONFIGURATION]
    assert platform["product_family_code"] == "devlms"
    assert platform["version"]
    assert {"type": c.RESOURCE_LINK_REQUEST} in platform["messages_supported"]
    assert {"type": c.DEEP_LINKING_REQUEST} in platform["messages_supported"]
    assert platform["variables"] == [c.VAR_SECTION_IDS, c.VAR_GROUP_IDS]


def test_rotation_keeps_previous_key_published(client, lms):
    first = lms.keys.current_kid
    token = lms.sign({"iss": ISSUER, "aud": "tool-1"})
    second = lms.rotate_key()
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]]
    assert second != first and kids == [first, second]
    assert verified_claims(client, token)["iss"] == ISSUER
    third = lms.rotate_key()
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]]
    assert kids == [second, third]


def test_sign_with_unknown_kid_names_it_in_the_header(lms):
    token = lms.sign({"x": 1}, kid="nobody")
    assert jwt.get_unverified_header(token)["kid"] == "nobody"


def test_state_survives_a_restart(tmp_path, lms):
    lms.remove_member("course-1", "s-finn")
    again = create_devlms_app(str(tmp_path), ISSUER).extensions["devlms"]
    assert again.keys.current_kid == lms.keys.current_kid
    assert again.tool("tool-1") == lms.tool("tool-1")
    assert again.roster.membership("course-1", "s-finn") is None


def test_launch_start_renders_the_login_initiation(client):
    response = client.get("/launch?user=s-anna&course=course-1&method=post")
    form = parse_autosubmit_form(response.text)
    assert form.action == f"{TOOL}/lti/login" and form.method == "post"
    assert form.fields["iss"] == ISSUER
    assert form.fields["client_id"] == "tool-1"
    assert form.fields["lti_deployment_id"] == "dep-1"
    assert form.fields["target_link_uri"] == f"{TOOL}/lti/launch"
    assert "s-anna" not in form.fields["login_hint"]  # opaque
    assert client.get("/launch?user=nobody&course=course-1").status_code == 400


def test_teacher_launch_claims(client, lms):
    claims = launch(client, lms, "t-tess")
    now = time.time()
    assert claims["sub"] == "t-tess" and claims["aud"] == claims["azp"] == "tool-1"
    assert claims["nonce"] == "nonce-1"
    assert now - 5 <= claims["iat"] <= now + 5 and claims["exp"] == claims["iat"] + 300
    assert claims["name"] == "Tess de Vries" and claims["given_name"] == "Tess"
    assert claims["family_name"] == "de Vries" and claims["email"].endswith("@school.example")
    assert claims["locale"] == "nl"
    assert claims[c.MESSAGE_TYPE] == c.RESOURCE_LINK_REQUEST
    assert claims[c.VERSION] == "1.3.0"
    assert claims[c.DEPLOYMENT_ID] == "dep-1"
    assert claims[c.TARGET_LINK_URI] == f"{TOOL}/lti/launch"
    assert c.ROLE_INSTRUCTOR in claims[c.ROLES]
    assert claims[c.CONTEXT] == {
        "id": "course-1",
        "label": "BIO-4A",
        "title": "Demo course: Biology 4A",
        "type": [c.COURSE_OFFERING],
    }
    assert claims[c.RESOURCE_LINK] == {"id": "rl-course-1", "title": "Recordings and streams"}
    presentation = claims[c.LAUNCH_PRESENTATION]
    assert presentation["document_target"] == "iframe" and presentation["locale"] == "nl"
    assert presentation["return_url"].startswith(f"{ISSUER}/course/course-1")
    assert claims[c.TOOL_PLATFORM]["product_family_code"] == "devlms"
    assert claims[c.TOOL_PLATFORM]["guid"]
    assert claims[c.CUSTOM] == {"canvas_section_ids": "sec-A,sec-B", "canvas_group_ids": ""}
    assert claims[c.NRPS_CLAIM] == {
        "context_memberships_url": f"{ISSUER}/nrps/course-1/memberships",
        "service_versions": ["2.0"],
    }
    assert c.ROLE_SCOPE_MENTOR not in claims


def test_student_launch_claims(client, lms):
    claims = launch(client, lms, "s-sam", method="get", document_target="window")
    assert claims[c.ROLES] == [c.ROLE_LEARNER, c.ROLE_INSTITUTION_STUDENT]
    assert claims[c.CUSTOM] == {"canvas_section_ids": "sec-A", "canvas_group_ids": "grp-1"}
    assert claims[c.LAUNCH_PRESENTATION]["document_target"] == "window"


def test_mentor_launch_claims(client, lms):
    claims = launch(client, lms, "p-petra")
    assert c.ROLE_MENTOR in claims[c.ROLES]
    assert claims[c.ROLE_SCOPE_MENTOR] == ["s-sam"]


def test_teaching_assistant_and_admin_roles(client, lms):
    ta = launch(client, lms, "ta-tom")
    assert {c.ROLE_INSTRUCTOR, c.ROLE_TEACHING_ASSISTANT} <= set(ta[c.ROLES])
    assert ta["locale"] == "en"
    admin = launch(client, lms, "a-adam")
    assert admin[c.ROLES] == [c.ROLE_INSTITUTION_ADMIN]


def test_deep_linking_request_claims(client, lms):
    claims = launch(client, lms, "t-tess", message_type=c.DEEP_LINKING_REQUEST)
    assert claims[c.MESSAGE_TYPE] == c.DEEP_LINKING_REQUEST
    assert c.RESOURCE_LINK not in claims
    settings = claims[c.DL_SETTINGS]
    assert settings["deep_link_return_url"] == f"{ISSUER}/deep_link_return"
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window"]
    assert settings["accept_multiple"] is True and settings["auto_create"] is True
    assert settings["data"]


def test_cross_course_launch(client, lms):
    claims = launch(client, lms, "s-gijs", course_id="course-2")
    assert claims[c.CONTEXT]["id"] == "course-2"
    assert claims[c.RESOURCE_LINK]["id"] == "rl-course-2"


def test_roster_changes_show_in_launches(lms):
    lms.set_member_sections("course-1", "s-anna", ["sec-B"])
    lms.set_member_groups("course-1", "s-anna", ["grp-1", "grp-2"])
    claims = lms.build_id_token_claims("s-anna", "course-1")
    assert claims[c.CUSTOM] == {"canvas_section_ids": "sec-B", "canvas_group_ids": "grp-1,grp-2"}
    with pytest.raises(ValueError, match="sec-Z"):
        lms.set_member_sections("course-1", "s-anna", ["sec-Z"])


def test_clock_skew_shifts_iat_and_exp(lms):
    lms.clock_skew_seconds = 120
    claims = lms.build_id_token_claims("s-anna", "course-1", nonce="n")
    assert claims["iat"] >= time.time() + 115
    assert claims["exp"] == claims["iat"] + 300


def test_build_id_token_claims_deployment_override(lms):
    claims = lms.build_id_token_claims("s-anna", "course-1", deployment_id="dep-unknown")
    assert claims[c.DEPLOYMENT_ID] == "dep-unknown" and claims["nonce"]


def error_form(client, data):
    response = client.post("/auth", data=data)
    assert response.status_code == 200
    form = parse_autosubmit_form(response.text)
    assert form.action == f"{TOOL}/lti/launch" and "id_token" not in form.fields
    assert form.fields["state"] == "state-1"
    return form.fields["error"]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("scope", "profile", "invalid_scope"),
        ("response_type", "code", "unsupported_response_type"),
        ("prompt", "login", "invalid_request"),
        ("nonce", "", "invalid_request"),
        ("login_hint", "forged", "login_required"),
        ("lti_message_hint", "forged", "invalid_request"),
    ],
)
def test_auth_refuses_bad_parameters(client, lms, field, value, error):
    data = auth_request(lms, "s-anna")
    data[field] = value
    assert error_form(client, data) == error


def test_auth_refuses_login_hint_of_another_user(client, lms):
    data = auth_request(lms, "s-anna")
    data["login_hint"] = auth_request(lms, "t-tess")["login_hint"]
    assert error_form(client, data) == "login_required"


def test_auth_refuses_message_hint_of_another_client(client, lms):
    lms.add_tool("tool-2", "dep-2", TOOL)
    data = auth_request(lms, "s-anna", client_id="tool-2")
    data["client_id"] = "tool-1"
    assert error_form(client, data) == "unauthorized_client"


def test_auth_refuses_removed_member_and_student_deep_linking(client, lms):
    data = auth_request(lms, "s-bram")
    lms.remove_member("course-1", "s-bram", keep_inactive=True)
    assert error_form(client, data) == "access_denied"
    data = auth_request(lms, "s-anna", message_type=c.DEEP_LINKING_REQUEST)
    assert error_form(client, data) == "access_denied"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client_id", "unknown"),
        ("redirect_uri", "http://evil.example/lti/launch"),
        ("response_mode", "query"),
    ],
)
def test_auth_never_redirects_to_unverified_places(client, lms, field, value):
    data = auth_request(lms, "s-anna")
    data[field] = value
    response = client.get("/auth", query_string=data)
    assert response.status_code == 400
    with pytest.raises(ValueError):
        parse_autosubmit_form(response.text)


def test_pages_render(client, lms):
    assert "Launch as Tess de Vries" in client.get("/").text
    assert "Add content (deep linking)" in client.get("/").text
    page = client.get("/course/course-1?user=s-anna").text
    assert "<iframe" in page and "Open in a new window" in page
    assert client.get("/course/course-9?user=s-anna").status_code == 404
    assert client.get("/placements").status_code == 200
    assert "tool-1" in client.get("/admin").text


def test_admin_pages_add_and_register_tools(client, lms):
    response = client.post(
        "/admin/tools", data={"tool_base_url": "http://127.0.0.1:6000", "client_id": "manual"}
    )
    assert response.status_code == 303
    assert lms.tool("manual").initiate_login_uri == "http://127.0.0.1:6000/lti/login"
    page = client.post("/admin/register", data={"registration_url": f"{TOOL}/lti/register"}).text
    assert f"{TOOL}/lti/register?openid_configuration=" in page
    assert "registration_token=" in page and "org.imsglobal.lti.close" in page


def test_cli_options():
    result = CliRunner().invoke(devlms, ["--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--data-dir", "--base-url", "--tool-url"):
        assert option in result.output
