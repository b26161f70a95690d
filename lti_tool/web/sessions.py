"""Server-side launch sessions: one per launch, named in the URL, bound to the browser.

A launch creates a session in the shared store holding the :class:`LaunchContext`. Its id is
the first path segment of every page (``/s/<sid>/...``) so several launches (courses, tabs) live
side by side; a browser-key cookie must match, so a leaked URL is useless elsewhere. Every
state-changing request carries a CSRF token derived from the session.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request

from lti_tool.access.models import Course
from lti_tool.access.queries import find_course
from lti_tool.errors import CookiesBlocked, Forbidden, NotFound, SessionExpired
from lti_tool.lti.context import LaunchContext
from lti_tool.web.lifecycle import db_session, runtime

BROWSER_COOKIE = "ltt_browser"
BROWSER_COOKIE_AGE = 400 * 24 * 3600
F = TypeVar("F", bound=Callable[..., Any])


def launched_course() -> Course:
    """The course of the current launch; 404 when the tool has no such course."""
    ctx: LaunchContext = g.launch
    course = find_course(db_session(), ctx.registration_id, ctx.context_id)
    if course is None:
        raise NotFound()
    return course


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create(context: LaunchContext, browser_key: str) -> str:
    """Store a session for ``context`` bound to ``browser_key``; returns its id."""
    sid = secrets.token_urlsafe(24)
    record = {"ctx": context.to_json(), "browser": _hash(browser_key)}
    rt = runtime()
    rt.store.put("session:" + sid, json.dumps(record), rt.settings.session_hours * 3600)
    return sid


def load(sid: str) -> LaunchContext:
    """The context of session ``sid`` if this browser owns it."""
    raw = runtime().store.get("session:" + sid) if len(sid) <= 64 else None
    if raw is None:
        raise SessionExpired()
    record = json.loads(raw)
    browser_key = request.cookies.get(BROWSER_COOKIE)
    if browser_key is None:
        raise CookiesBlocked()
    if not hmac.compare_digest(record["browser"], _hash(browser_key)):
        raise Forbidden("This session belongs to another browser. Open the tool from the course.")
    return LaunchContext.from_json(record["ctx"])


def csrf_token(sid: str) -> str:
    """The CSRF token of session ``sid``."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + sid.encode(), hashlib.sha256).hexdigest()


def check_csrf(sid: str) -> None:
    """Refuse a state-changing request without the session's CSRF token."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    if not hmac.compare_digest(sent, csrf_token(sid)):
        raise Forbidden("The form has expired or was not sent from this page. Reload and retry.")


def init_app(app: Flask) -> None:
    """Resolve ``<sid>`` in URLs into ``g.launch`` and keep it in generated URLs."""

    @app.url_value_preprocessor
    def _pull_sid(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values and "sid" in values:
            g.sid = values.pop("sid")

    @app.url_defaults
    def _add_sid(endpoint: str, values: dict[str, Any]) -> None:
        if "sid" in g and app.url_map.is_endpoint_expecting(endpoint, "sid"):
            values.setdefault("sid", g.sid)

    @app.context_processor
    def _session_vars() -> dict[str, Any]:
        if "launch" in g:
            return {"launch": g.launch, "csrf_token": csrf_token(g.sid)}
        return {}


def launch_required(view: F) -> F:
    """Load the launch session named in the URL; check CSRF on state-changing methods."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.launch = load(g.sid)
        if request.method not in {"GET", "HEAD", "OPTIONS"}:
            check_csrf(g.sid)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
