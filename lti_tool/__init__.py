"""lti_tool: an LTI 1.3 tool that makes lesson recordings and live streams lawful.

``create_app`` builds the Flask app: settings, services, request lifecycle, blueprints.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_tool.config import PROJECT_ROOT, Settings, load_settings
from lti_tool.runtime import Runtime


def create_app(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Flask:
    """Build the app from the environment (``LTI_TOOL_*``) and ``overrides``."""
    settings = load_settings(environ, overrides)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        MAX_CONTENT_LENGTH=settings.max_form_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_form_bytes,
        SESSION_COOKIE_SECURE=True,
        PREFERRED_URL_SCHEME="https" if settings.https_only else "http",
    )
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.extensions["lti_tool"] = Runtime.build(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    from lti_tool.consent.views import bp as consent_bp
    from lti_tool.deletion.views import bp as retention_bp
    from lti_tool.institution.views import bp as institution_bp
    from lti_tool.items.views import bp as items_bp
    from lti_tool.lti.views import bp as lti_bp
    from lti_tool.privacy.views import bp as privacy_bp
    from lti_tool.recordings.views import bp as recordings_bp
    from lti_tool.streams.views import bp as streams_bp
    from lti_tool.web import errors, i18n, lifecycle, security, sessions
    from lti_tool.web.views import bp as web_bp

    lifecycle.init_app(app)
    sessions.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    app.register_blueprint(web_bp)
    app.register_blueprint(lti_bp)
    app.register_blueprint(items_bp)
    app.register_blueprint(institution_bp)
    app.register_blueprint(streams_bp)
    app.register_blueprint(consent_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(retention_bp)
    app.register_blueprint(recordings_bp)
    return app


def _secret_key(settings: Settings) -> str:
    """The configured key; in dev mode a random one kept in the instance folder (shared by
    all workers)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f"secret_key.{os.getpid()}")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: the first worker wins, the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
