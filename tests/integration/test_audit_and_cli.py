"""The audit log refuses changes at the database level; the CLI administers registrations."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DatabaseError

from lti_tool.audit.models import AuditEvent
from lti_tool.audit.operations import record
from lti_tool.cli import main


def test_audit_log_is_append_only(app: Flask) -> None:
    db = app.extensions["lti_tool"].db
    with db.transaction() as session:
        record(session, "test.event", note="kept")
    with pytest.raises(DatabaseError), db.transaction() as session:
        session.execute(update(AuditEvent).values(kind="changed"))
    with pytest.raises(DatabaseError), db.transaction() as session:
        session.execute(delete(AuditEvent))
    with db.transaction() as session:
        assert session.scalars(select(AuditEvent.kind)).all() == ["test.event"]


@pytest.fixture
def cli_env(tool_settings: dict, app: Flask, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "LTI_TOOL_DEV": "1",
        "LTI_TOOL_DATABASE_URL": tool_settings["database_url"],
        "LTI_TOOL_BASE_URL": tool_settings["base_url"],
        "LTI_TOOL_INSTANCE_PATH": tool_settings["instance_path"],
        "LTI_TOOL_SECRET_KEY": tool_settings["secret_key"],
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_registration_lifecycle_from_the_cli(cli_env: dict[str, str]) -> None:
    code, out = run(
        "registration",
        "add",
        "--issuer",
        "https://canvas.instructure.com",
        "--client-id",
        "10000000000001",
        "--login-url",
        "https://sso.canvaslms.com/api/lti/authorize_redirect",
        "--token-url",
        "https://sso.canvaslms.com/login/oauth2/token",
        "--jwks-url",
        "https://sso.canvaslms.com/api/lti/security/jwks",
        "--deployment",
        "1:abc",
        "--product",
        "canvas",
        "--json",
    )
    assert code == 0, out
    registration_id = json.loads(out)["id"]
    code, out = run(
        "registration",
        "add",
        "--issuer",
        "https://canvas.instructure.com",
        "--client-id",
        "10000000000001",
        "--login-url",
        "https://a.example/x",
        "--token-url",
        "https://a.example/t",
        "--jwks-url",
        "https://a.example/j",
    )
    assert code == 1 and "already registered" in out
    code, out = run("registration", "show", str(registration_id), "--json")
    assert json.loads(out)["deployments"] == ["1:abc (approved)"]
    code, out = run("registration", "disable", str(registration_id))
    assert code == 0
    code, out = run("registration", "list", "--json")
    assert json.loads(out)[0]["active"] is False


def test_bad_registration_urls_are_refused(cli_env: dict[str, str]) -> None:
    code, out = run(
        "registration",
        "add",
        "--issuer",
        "https://x.example",
        "--client-id",
        "c",
        "--login-url",
        "javascript:alert(1)",
        "--token-url",
        "https://x.example/t",
        "--jwks-url",
        "https://x.example/j",
    )
    assert code == 1 and "absolute" in out


def test_invite_and_keys_from_the_cli(cli_env: dict[str, str]) -> None:
    code, out = run("registration", "invite", "--hours", "2")
    assert code == 0 and "/lti/register/" in out
    before = len(run("keys", "list")[1].strip().splitlines())
    assert run("keys", "rotate")[0] == 0
    assert run("keys", "rotate")[0] == 0
    code, out = run("keys", "list")
    assert len(out.strip().splitlines()) == before + 2
    assert f"retired {before + 1}" in run("keys", "retire")[1]
    assert len(run("keys", "list")[1].strip().splitlines()) == 1


def test_pending_deployment_is_approved_from_the_cli(cli_env: dict, browser) -> None:
    from tests.integration.test_launch_security import crafted

    launch = crafted(
        browser,
        lambda cl: cl.update(
            {"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "pending-1"}
        ),
    )
    assert launch.response.status_code == 403
    _code, out = run("deployment", "list", "--status", "pending", "--json")
    pending = json.loads(out)
    assert [d["deployment_id"] for d in pending] == ["pending-1"]
    assert run("deployment", "approve", str(pending[0]["id"]))[0] == 0
    assert json.loads(run("deployment", "list", "--status", "pending", "--json")[1]) == []


def test_roster_sync_from_the_cli(cli_env: dict, browser) -> None:
    browser.launch("t-tess")
    code, out = run("roster", "sync", "--context", "course-1")
    assert code == 0, out
    assert json.loads(out)["active"] == 10
    code, out = run("roster", "sync", "--context", "no-such-course")
    assert code == 1 and "no course" in out
