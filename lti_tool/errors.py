"""One exception root for the tool; each subclass carries an HTTP status and a default reason.

Reasons are English source strings marked for translation; the web layer translates them into
the user's language when it renders the error page (see ``lti_tool.web.errors``).
"""

from __future__ import annotations


def _(text: str) -> str:
    """Mark ``text`` for extraction; translation happens when the error is rendered."""
    return text


class ToolError(Exception):
    """Root of every error the tool raises on purpose."""

    status = 400
    reason = _("The request could not be processed.")

    def __init__(self, reason: str | None = None, *, detail: str | None = None, **params: object):
        self.reason = reason or type(self).reason
        self.detail = detail
        self.params = params
        super().__init__(self.reason if detail is None else f"{self.reason} ({detail})")


class ConfigError(ToolError):
    """A setting is unknown or malformed; the tool does not start."""

    status = 500
    reason = _("The tool is misconfigured.")


class BadRequest(ToolError):
    status = 400
    reason = _("The request is malformed.")


class LaunchError(ToolError):
    """An LTI launch or login was refused; ``reason`` says why."""

    status = 401
    reason = _("The launch could not be verified.")


class CookiesBlocked(LaunchError):
    status = 403
    reason = _("Your browser blocked the cookies this tool needs inside the course page.")


class DeploymentPending(LaunchError):
    status = 403
    reason = _("This installation of the tool awaits approval by an administrator.")


class Forbidden(ToolError):
    status = 403
    reason = _("You are not allowed to do this.")


class SessionExpired(ToolError):
    status = 401
    reason = _("Your session has expired. Open the tool again from the course.")


class NotFound(ToolError):
    status = 404
    reason = _("This page does not exist.")


class Conflict(ToolError):
    status = 409
    reason = _("This conflicts with the current state.")


class UpstreamError(ToolError):
    """A platform or provider we depend on failed or answered junk."""

    status = 502
    reason = _("A service this tool depends on did not answer correctly.")
