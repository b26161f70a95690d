"""Development LMS: a small LTI 1.3 platform for the demo and the tests, never for production.

It talks to the tool over HTTP only, like Canvas, Brightspace or Moodle would: OIDC
third-party initiated login, signed id_tokens and JWKS, client-credentials tokens, Names and
Role Provisioning, Deep Linking and Dynamic Registration. Tests and the demo drive it through
:class:`DevLms` (``app.extensions["devlms"]``).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from lti_tool.devlms import deeplinking, oidc, pages, registration, services
from lti_tool.devlms.platform import DevLms, RegistrationFailed
from lti_tool.devlms.registry import ToolRegistration

__all__ = ["DevLms", "RegistrationFailed", "ToolRegistration", "create_devlms_app"]

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def create_devlms_app(data_dir: str, base_url: str) -> Flask:
    """The platform as a Flask app; ``base_url`` is its origin and issuer."""
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions["devlms"] = DevLms(data_dir, base_url)
    for module in (pages, oidc, services, deeplinking, registration):
        app.register_blueprint(module.bp)
    return app
