"""Response helpers shared by the platform's views."""

from __future__ import annotations

from flask import Response, jsonify, render_template


def autosubmit(
    action: str, fields: dict[str, str], *, method: str = "post", heading: str, error: str = ""
) -> str:
    """A page whose form submits itself (OIDC form_post, login initiation)."""
    return render_template(
        "devlms/autosubmit.html",
        action=action,
        fields=fields,
        method=method,
        heading=heading,
        error=error,
    )


def error_page(status: int, title: str, detail: str) -> tuple[str, int]:
    """A human-readable error page."""
    return render_template("devlms/error.html", title=title, detail=detail), status


def no_store(response: Response) -> Response:
    """Mark a response that carries a secret as not cacheable."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def oauth_error(status: int, error: str, description: str) -> Response:
    """An RFC 6749 style JSON error."""
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    return no_store(response)
