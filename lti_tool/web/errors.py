"""Error pages: every error becomes a page (or JSON) with a reason in the user's language."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, render_template, request
from flask_babel import gettext
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from lti_tool.errors import CookiesBlocked, ToolError, _

log = logging.getLogger("lti_tool.web")


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(status: int, reason: str, **context: Any) -> tuple[str | dict[str, Any], int]:
    """Render ``reason`` (an English msgid) translated, as HTML or JSON."""
    message = gettext(reason)
    if _wants_json():
        return {"error": message, "status": status}, status
    return render_template("errors/error.html", status=status, message=message, **context), status


def init_app(app: Flask) -> None:
    @app.errorhandler(ToolError)
    def _tool_error(exc: ToolError) -> Any:
        log.info(
            "%s %s -> %s %s%s",
            request.method,
            request.path,
            exc.status,
            type(exc).__name__,
            f" ({exc.detail})" if exc.detail else "",
        )
        if isinstance(exc, CookiesBlocked):
            return render_template(
                "errors/cookies_blocked.html", relaunch=exc.params.get("relaunch")
            ), exc.status
        return render_error(exc.status, exc.reason)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        reasons = {
            400: _("The request is malformed."),
            404: _("This page does not exist."),
            405: _("This method is not allowed here."),
            413: _("The request is too large."),
        }
        status = exc.code or 500
        return render_error(status, reasons.get(status, "The request could not be processed."))

    @app.errorhandler(OperationalError)
    def _db_down(exc: OperationalError) -> Any:
        log.error(
            "database unavailable on %s %s: %s",
            request.method,
            request.path,
            str(exc.orig).splitlines()[0][:200],
        )
        return render_error(503, "The tool is temporarily unavailable. Try again in a minute.")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return render_error(500, "Something went wrong on our side. It has been logged.")
