"""One request lifecycle: a database session per request, committed once or rolled back."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from lti_tool.runtime import Runtime


def runtime() -> Runtime:
    """The services of the current app."""
    rt: Runtime = current_app.extensions["lti_tool"]
    return rt


def db_session() -> Session:
    """The request's database session, opened on first use."""
    if "db_session" not in g:
        g.db_session = runtime().db.sessions()
    session: Session = g.db_session
    return session


def commit() -> None:
    """Commit the request's work; views call it once, after acting."""
    if "db_session" in g:
        g.db_session.commit()


def init_app(app: Flask) -> None:
    @app.teardown_request
    def _close_session(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None or session.in_transaction():
                session.rollback()
            session.close()
