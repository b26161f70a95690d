"""Development LMS endpoints a tool calls: token, deep-link return, Dynamic Registration.

A fake tool runs on a real local server (127.0.0.1) so the platform fetches its JWKS and
drives Dynamic Registration over HTTP, as it would with the real tool.
"""

from __future__ import annotations

import copy
import socket
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, request
from jwt.algorithms import RSAAlgorithm

from lti_tool.devlms import RegistrationFailed, create_devlms_app
from lti_tool.devlms import claims as c
from lti_tool.devlms.cli import serve_in_thread

ISSUER = "http://localhost:5001"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class FakeTool:
    """A minimal tool: a JWKS, signing, and a Dynamic Registration initiation URL."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.registration_answer: dict | None = None
        app = Flask("fake_tool")
        app.add_url_rule("/.well-known/jwks.json", view_func=self.jwks)
        app.add_url_rule("/lti/register", view_func=self.register)
        self.server, self.thread = serve_in_thread(app, "127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def jwks(self):
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return jsonify(keys=[{**jwk, "kid": "tool-key", "alg": "RS256", "use": "sig"}])

    def sign(self, claims, key=None):
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": "tool-key"})

    def registration(self):
        return registration_request(self.base)

    def register(self):
        config = requests.get(request.args["openid_configuration"], timeout=5).json()
        token = request.args.get("registration_token")
        answer = requests.post(
            config["registration_endpoint"],
            json=self.registration(),
            headers={"Authorization": f"Bearer {token}"} if token else {},
            timeout=5,
        )
        self.registration_answer = answer.json()
        close = "{subject: 'org.imsglobal.lti.close'}"
        return f"<script>(opener || parent).postMessage({close}, '*')</script>", answer.status_code


def registration_request(base):
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{base}/lti/login",
        "redirect_uris": [f"{base}/lti/launch"],
        "client_name": "Recordings",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": f"{c.NRPS_SCOPE} https://example.com/unsupported",
        c.TOOL_CONFIGURATION: {
            "domain": base.split("//")[1],
            "target_link_uri": f"{base}/lti/launch",
            "custom_parameters": {"sections": c.VAR_SECTION_IDS, "fixed": "yes"},
            "claims": ["iss", "sub", "name"],
            "messages": [
                {"type": c.RESOURCE_LINK_REQUEST},
                {"type": c.DEEP_LINKING_REQUEST, "target_link_uri": f"{base}/lti/launch"},
            ],
        },
    }


@pytest.fixture(scope="module")
def tool():
    tool = FakeTool()
    yield tool
    tool.server.shutdown()


@pytest.fixture
def app(tmp_path, tool):
    app = create_devlms_app(str(tmp_path), ISSUER)
    app.extensions["devlms"].add_tool("tool-1", "dep-1", tool.base)
    return app


@pytest.fixture
def lms(app):
    return app.extensions["devlms"]


@pytest.fixture
def client(app):
    return app.test_client()


# Token endpoint


def assertion_claims(**overrides):
    now = int(time.time())
    claims = {
        "iss": "tool-1",
        "sub": "tool-1",
        "aud": f"{ISSUER}/token",
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def token_request(client, assertion, **overrides):
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
        "scope": c.NRPS_SCOPE,
        **overrides,
    }
    return client.post("/token", data=data)


def test_token_for_a_valid_assertion(client, tool):
    response = token_request(client, tool.sign(assertion_claims()))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert body["scope"] == c.NRPS_SCOPE
    assert response.headers["Cache-Control"] == "no-store"
    nrps = client.get(
        "/nrps/course-1/memberships", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert nrps.status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 600, "iat": int(time.time()) - 900},  # expired
        {"aud": f"{ISSUER}/elsewhere"},
        {"sub": "someone-else"},
        {"jti": None},
        {"iss": "unknown-client"},
    ],
)
def test_token_refuses_bad_assertions(client, tool, overrides):
    response = token_request(client, tool.sign(assertion_claims(**overrides)))
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_token_refuses_an_assertion_signed_with_another_key(client, tool):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = token_request(client, tool.sign(assertion_claims(), key=other))
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_token_refuses_a_replayed_assertion(client, tool):
    assertion = tool.sign(assertion_claims())
    assert token_request(client, assertion).status_code == 200
    replay = token_request(client, assertion)
    assert replay.status_code == 401 and "already used" in replay.json["error_description"]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"client_assertion_type": "other"}, "invalid_request"),
        ({"client_assertion": ""}, "invalid_request"),
        ({"scope": "https://example.com/other"}, "invalid_scope"),
    ],
)
def test_token_refuses_bad_requests(client, tool, overrides, error):
    response = token_request(client, tool.sign(assertion_claims()), **overrides)
    assert response.status_code == 400 and response.json["error"] == error


def test_token_when_the_tool_jwks_is_unreachable(client, lms, tool):
    lms.add_tool("tool-1", "dep-1", "http://127.0.0.1:9")
    response = token_request(client, tool.sign(assertion_claims()))
    assert response.status_code == 401 and "JWKS" in response.json["error_description"]


# Deep linking return


def deep_linking_response(lms, **overrides):
    request_claims = lms.build_id_token_claims("t-tess", "course-1", c.DEEP_LINKING_REQUEST)
    now = int(time.time())
    claims = {
        "iss": "tool-1",
        "aud": ISSUER,
        "iat": now,
        "exp": now + 300,
        "nonce": str(uuid.uuid4()),
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: "1.3.0",
        c.DEPLOYMENT_ID: "dep-1",
        c.DL_DATA: request_claims[c.DL_SETTINGS]["data"],
        c.DL_CONTENT_ITEMS: [
            {
                "type": "ltiResourceLink",
                "title": "Lesson 3 recording",
                "url": "http://127.0.0.1:5000/lti/launch",
                "custom": {"recording": "rec-3"},
            }
        ],
        c.DL_MSG: "Placed one recording",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_deep_link_return_places_content(client, lms, tool):
    response = client.post("/deep_link_return", data={"JWT": tool.sign(deep_linking_response(lms))})
    assert response.status_code == 200, response.text
    assert "Lesson 3 recording" in response.text and "Placed one recording" in response.text
    [placement] = lms.placements.in_course("course-1")
    assert placement.title == "Lesson 3 recording" and placement.custom == {"recording": "rec-3"}
    claims = lms.build_id_token_claims("s-anna", "course-1", placement_id=placement.id)
    assert claims[c.RESOURCE_LINK] == {"id": placement.id, "title": "Lesson 3 recording"}
    assert claims[c.TARGET_LINK_URI] == "http://127.0.0.1:5000/lti/launch"
    assert claims[c.CUSTOM]["recording"] == "rec-3"
    assert "Lesson 3 recording" in client.get("/placements").text


def test_deep_link_return_refuses_a_tampered_jwt(client, lms, tool):
    header, _, signature = tool.sign(deep_linking_response(lms)).split(".")
    forged = tool.sign(deep_linking_response(lms, **{c.DL_MSG: "forged"})).split(".")[1]
    response = client.post("/deep_link_return", data={"JWT": f"{header}.{forged}.{signature}"})
    assert response.status_code == 400 and "Signature" in response.text
    assert lms.placements.in_course("course-1") == []


def test_deep_link_return_refuses_a_replay(client, lms, tool):
    token = tool.sign(deep_linking_response(lms))
    assert client.post("/deep_link_return", data={"JWT": token}).status_code == 200
    again = client.post("/deep_link_return", data={"JWT": token})
    assert again.status_code == 400 and "already received" in again.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "http://other-platform.example"},
        {"nonce": None},
        {"exp": int(time.time()) - 600},
        {c.MESSAGE_TYPE: c.DEEP_LINKING_REQUEST},
        {c.VERSION: "1.1"},
        {c.DEPLOYMENT_ID: "dep-other"},
        {c.DL_DATA: None},
        {c.DL_DATA: "tampered-data"},
        {c.DL_CONTENT_ITEMS: [{"type": "file", "url": "http://127.0.0.1:5000/x"}]},
        {c.DL_CONTENT_ITEMS: [{"type": "ltiResourceLink", "url": "javascript:alert(1)"}]},
    ],
)
def test_deep_link_return_refuses_bad_responses(client, lms, tool, overrides):
    token = tool.sign(deep_linking_response(lms, **overrides))
    assert client.post("/deep_link_return", data={"JWT": token}).status_code == 400
    assert lms.placements.in_course("course-1") == []


def test_deep_link_return_refuses_unknown_issuer_and_missing_jwt(client, lms, tool):
    token = tool.sign(deep_linking_response(lms, iss="nobody"))
    assert client.post("/deep_link_return", data={"JWT": token}).status_code == 400
    assert client.post("/deep_link_return", data={}).status_code == 400


# Dynamic Registration


def test_register_accepts_a_valid_registration(client, lms, tool):
    token = lms.tokens.issue_registration_token()
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/register", json=tool.registration(), headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["client_name"] == "Recordings" and body["client_id"]
    assert body["scope"] == c.NRPS_SCOPE
    config = body[c.TOOL_CONFIGURATION]
    assert config["deployment_id"] and config["target_link_uri"] == f"{tool.base}/lti/launch"
    registered = lms.tool(body["client_id"])
    assert registered.deployment_id == config["deployment_id"]
    assert registered.jwks_uri == f"{tool.base}/.well-known/jwks.json"
    claims = lms.build_id_token_claims("s-anna", "course-1", client_id=body["client_id"])
    assert claims[c.CUSTOM] == {"sections": "sec-A", "fixed": "yes"}
    assert "name" in claims and "email" not in claims  # only the claims it asked for
    again = client.post("/register", json=tool.registration(), headers=headers)
    assert again.status_code == 401  # the token is single use


def mutate(path, value):
    def change(doc):
        *parents, last = path
        target = doc
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
        return doc

    return change


TC = c.TOOL_CONFIGURATION


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (mutate(["application_type"], "native"), "invalid_client_metadata"),
        (mutate(["response_types"], ["code"]), "invalid_client_metadata"),
        (mutate(["grant_types"], ["implicit"]), "invalid_client_metadata"),
        (mutate(["token_endpoint_auth_method"], "client_secret_basic"), "invalid_client_metadata"),
        (mutate(["client_name"], None), "invalid_client_metadata"),
        (mutate(["initiate_login_uri"], "not a url"), "invalid_client_metadata"),
        (mutate(["jwks_uri"], "http://evil.example/jwks"), "invalid_client_metadata"),
        (mutate(["redirect_uris"], []), "invalid_redirect_uri"),
        (mutate(["redirect_uris"], ["http://evil.example/launch"]), "invalid_redirect_uri"),
        (mutate([TC], None), "invalid_client_metadata"),
        (mutate([TC, "domain"], None), "invalid_client_metadata"),
        (mutate([TC, "target_link_uri"], None), "invalid_client_metadata"),
        (mutate([TC, "custom_parameters"], {"n": 1}), "invalid_client_metadata"),
        (mutate([TC, "messages"], "all"), "invalid_client_metadata"),
    ],
)
def test_register_refuses_invalid_registrations(client, lms, tool, change, error):
    headers = {"Authorization": f"Bearer {lms.tokens.issue_registration_token()}"}
    doc = change(copy.deepcopy(tool.registration()))
    response = client.post("/register", json=doc, headers=headers)
    assert response.status_code == 400
    assert response.json["error"] == error and response.json["error_description"]
    assert [t.client_id for t in lms.tools.all()] == ["tool-1"]


def test_register_requires_a_registration_token(client, tool):
    assert client.post("/register", json=tool.registration()).status_code == 401
    bad = {"Authorization": "Bearer made-up"}
    assert client.post("/register", json=tool.registration(), headers=bad).status_code == 401


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_lms(tmp_path):
    port = free_port()
    app = create_devlms_app(str(tmp_path / "served"), f"http://127.0.0.1:{port}")
    server, _ = serve_in_thread(app, "127.0.0.1", port)
    yield app.extensions["devlms"]
    server.shutdown()


def test_register_tool_drives_dynamic_registration(served_lms, tool):
    registered = served_lms.register_tool(f"{tool.base}/lti/register")
    assert registered.client_id == tool.registration_answer["client_id"]
    assert registered.initiate_login_uri == f"{tool.base}/lti/login"
    assert registered.scopes == [c.NRPS_SCOPE]


def test_register_tool_reports_a_tool_that_did_not_register(served_lms, tool):
    with pytest.raises(RegistrationFailed, match="404"):
        served_lms.register_tool(f"{tool.base}/no-such-page")
