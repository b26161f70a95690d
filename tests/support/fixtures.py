"""The tool and the development LMS, each served on loopback (integration and browser tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lti_tool import create_app
from lti_tool.devlms import create_devlms_app
from lti_tool.devlms.cli import serve_in_thread
from lti_tool.devlms.platform import DevLms
from tests.conftest import free_port
from tests.support.browser import Browser

CLIENT_ID = "tool-client-1"
DEPLOYMENT_ID = "deployment-1"


@pytest.fixture
def lms(tmp_path: Path) -> Iterator[DevLms]:
    """The development LMS on a free loopback port."""
    port = free_port()
    app = create_devlms_app(str(tmp_path / "devlms"), f"http://localhost:{port}")
    server, thread = serve_in_thread(app, "127.0.0.1", port)
    yield app.extensions["devlms"]
    server.shutdown()
    thread.join(5)


@pytest.fixture
def tool_settings(database_url: str, tmp_path: Path) -> dict[str, Any]:
    port = free_port()
    return {
        "dev": True,
        "database_url": database_url,
        "base_url": f"http://127.0.0.1:{port}",
        "instance_path": str(tmp_path / "instance"),
        "secret_key": "test-secret-key-test-secret-key-0123456789",
    }


@pytest.fixture
def app(tool_settings: dict[str, Any]) -> Iterator[Flask]:
    """The tool, also served on its base URL (the LMS fetches our key set from there)."""
    app = create_app(tool_settings, environ={})
    port = int(tool_settings["base_url"].rsplit(":", 1)[1])
    server, thread = serve_in_thread(app, "127.0.0.1", port)
    yield app
    server.shutdown()
    thread.join(5)
    app.extensions["lti_tool"].db.engine.dispose()


def register(app: Flask, lms: DevLms) -> DevLms:
    """Make the LMS and the tool know each other (by hand, with an approved deployment)."""
    from lti_tool.lti.models import DeploymentStatus
    from lti_tool.lti.registrations import add_deployment, add_registration

    lms.add_tool(CLIENT_ID, DEPLOYMENT_ID, app.extensions["lti_tool"].settings.base_url)
    with app.extensions["lti_tool"].db.transaction() as session:
        registration = add_registration(
            session,
            issuer=lms.issuer,
            client_id=CLIENT_ID,
            auth_login_url=lms.url("/auth"),
            auth_token_url=lms.url("/token"),
            jwks_url=lms.url("/.well-known/jwks.json"),
            https_only=False,
            product="devlms",
        )
        add_deployment(session, registration, DEPLOYMENT_ID, DeploymentStatus.APPROVED)
    return lms


@pytest.fixture
def registered(app: Flask, lms: DevLms) -> DevLms:
    """The LMS and the tool know each other."""
    return register(app, lms)


@pytest.fixture
def browser(app: Flask, registered: DevLms) -> Browser:
    return Browser(app.test_client(), registered)


@pytest.fixture
def new_browser(app: Flask, registered: DevLms) -> Any:
    """Another, independent browser (its own cookies), English unless told."""
    return lambda language="en": Browser(app.test_client(), registered, language)
