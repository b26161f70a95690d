"""Security headers and cookie attributes for pages that live inside an LMS iframe."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from lti_tool.lti.models import Registration
from lti_tool.web.lifecycle import runtime

_ORIGINS_TTL = 30.0
_origins_cache: dict[int, tuple[float, str]] = {}


def platform_origins(app: Flask) -> str:
    """Space-separated origins of active registrations, cached briefly per process."""
    cached = _origins_cache.get(id(app))
    if cached and time.monotonic() - cached[0] < _ORIGINS_TTL:
        return cached[1]
    try:
        with runtime().db.sessions() as session:
            rows = session.execute(
                select(
                    Registration.issuer, Registration.auth_login_url, Registration.frame_origins
                ).where(Registration.active)
            ).all()
    except SQLAlchemyError:
        return ""  # database down: frame only from ourselves; /healthz reports it
    found: set[str] = set()
    for issuer, login_url, extra in rows:
        found.update(origin_of(u) for u in (issuer, login_url, *(extra or [])))
    origins = sorted(o for o in found if o)
    value = " ".join(origins)
    _origins_cache[id(app)] = (time.monotonic(), value)
    return value


def forget_origins() -> None:
    """Drop the cached origins (after registrations change in this process)."""
    _origins_cache.clear()


def origin_of(url: str) -> str:
    """scheme://host[:port] of ``url``, or '' when it has none."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    """A cookie usable inside a cross-site iframe: Secure; SameSite=None; HttpOnly; Partitioned."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        secure=True,
        httponly=True,
        samesite="None",
        partitioned=True,
        path="/",
    )


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        ancestors = "'self' " + platform_origins(app)
        settings = runtime().settings
        media = origin_of(settings.hls_url or "")  # live streams' signed HLS
        # recordings: signed links to nginx (local storage) or to the bucket (S3)
        recorded = " ".join(
            sorted({origin_of(u) for u in (settings.media_url, settings.s3_endpoint_url) if u})
        )
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; connect-src 'self' {media}".rstrip()
            + f"; img-src 'self' data: {recorded}".rstrip()
            + f"; media-src 'self' blob: {recorded}".rstrip()
            + "; "
            "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
            f"form-action {ancestors.strip()}; frame-ancestors {ancestors.strip()}"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response
