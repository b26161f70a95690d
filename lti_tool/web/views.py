"""Landing pages after a launch, the health check and the public start page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from lti_tool.access import queries
from lti_tool.access.models import Person
from lti_tool.access.roster import refresh_if_stale, sync_course
from lti_tool.consent.queries import CourseConsent, course_consent, pending_count
from lti_tool.deletion.views import course_notices
from lti_tool.errors import Forbidden, NotFound
from lti_tool.items import queries as item_queries
from lti_tool.lti.models import DeploymentStatus
from lti_tool.lti.registrations import list_deployments
from lti_tool.web.i18n import current_locale
from lti_tool.web.lifecycle import commit, db_session, runtime
from lti_tool.web.sessions import launch_required

bp = Blueprint("web", __name__)


@bp.get("/")
def index() -> str:
    """What this tool is, for someone who opens it outside a course."""
    return render_template("index.html")


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """200 when the database (and Redis, when configured) answer; 503 otherwise."""
    rt = runtime()
    checks: dict[str, str] = {}
    try:
        with rt.db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = type(exc).__name__
    if rt.settings.redis_url:
        try:
            rt.store.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = type(exc).__name__
    healthy = all(v == "ok" for v in checks.values())
    return {"status": "ok" if healthy else "unavailable", "checks": checks}, 200 if healthy else 503


@bp.get("/s/<sid>/")
@launch_required
def home() -> str:
    """The page for the launching user's role in this course."""
    ctx = g.launch
    session = db_session()
    role = ctx.primary_role
    course = queries.find_course(session, ctx.registration_id, ctx.context_id)
    locale = current_locale()
    data: dict[str, Any] = {}
    if course is not None and refresh_if_stale(session, runtime(), course):
        commit()  # the class list is fresh before anything is shown or decided
    if role == "teacher":
        data["roster"] = queries.roster(session, course)
        data["items"] = (
            [] if course is None else item_queries.course_items(session, course.id, locale)
        )
        data["consent"] = (
            CourseConsent({}, {}) if course is None else course_consent(session, course.id)
        )
        data["retention"] = None if course is None else course_notices(course.id)
    elif role in ("student", "mentor"):
        subs = (ctx.user_sub,) if role == "student" else ctx.mentor_of
        concerned = (
            []
            if course is None
            else item_queries.items_concerning(
                session, ctx.registration_id, course.id, subs, locale
            )
        )
        data["represented"] = concerned
        data["items"] = [card for student in concerned for card in student.items]
        people = session.scalars(
            select(Person.id).where(
                Person.registration_id == ctx.registration_id, Person.sub.in_(subs)
            )
        )
        data["pending"] = 0 if course is None else pending_count(session, people, course.id)
    elif role == "admin":
        data["pending"] = [
            d
            for d in list_deployments(session, DeploymentStatus.PENDING)
            if d.registration_id == ctx.registration_id
        ]
    return render_template(f"home/{role}.html", **data)


@bp.post("/s/<sid>/roster/sync")
@launch_required
def roster_sync() -> Response:
    """A teacher refreshes the class list from the platform's names-and-roles service."""
    ctx = g.launch
    if not ctx.is_teacher:
        raise Forbidden()
    session = db_session()
    course = queries.find_course(session, ctx.registration_id, ctx.context_id)
    if course is None:
        raise NotFound()
    sync_course(session, runtime(), course)
    commit()
    return redirect(url_for("web.home"), 303)
