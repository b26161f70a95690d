"""The platform's own pages: launch board, course view, placements and tool administration."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.devlms import claims as c
from lti_tool.devlms.platform import current_lms, with_query
from lti_tool.devlms.seed import COURSES, USERS
from lti_tool.devlms.web import error_page

bp = Blueprint("devlms_pages", __name__)


def _selected_tool_id() -> str | None:
    """The tool chosen with ``?tool=``, else the first registered one (None: no tool yet)."""
    lms = current_lms()
    wanted = request.args.get("tool")
    if wanted and lms.tools.get(wanted):
        return wanted
    return next((t.client_id for t in lms.tools.all()), None)


@bp.get("/")
def index() -> str:
    """Courses with their members and a launch button per member."""
    lms = current_lms()
    admins = [u for u in USERS.values() if c.ROLE_INSTITUTION_ADMIN in u.institution_roles]
    return render_template(
        "devlms/index.html",
        tools=lms.tools.all(),
        tool_id=_selected_tool_id(),
        courses=[(course, lms.roster.members(course.id)) for course in COURSES.values()],
        admins=admins,
    )


@bp.get("/course/<course_id>")
def course(course_id: str) -> str | tuple[str, int]:
    """A course as an LMS shows it: the tool in an iframe, for the user named by ``?user=``."""
    lms = current_lms()
    if course_id not in COURSES or request.args.get("user") not in USERS:
        return error_page(404, "Not found", "Unknown course or user.")
    user = USERS[request.args["user"]]
    tool_id = _selected_tool_id()
    launch = None
    if tool_id is not None:
        extra = {k: request.args[k] for k in ("kind", "placement") if request.args.get(k)}
        launch = {"user": user.id, "course": course_id, "tool": tool_id, **extra}
    return render_template(
        "devlms/course.html",
        course=COURSES[course_id],
        user=user,
        membership=lms.roster.membership(course_id, user.id),
        placements=lms.placements.in_course(course_id),
        launch=launch,
    )


@bp.get("/placements")
def placements() -> str:
    """Deep-linked placements in each course, with a form to launch one as a member."""
    lms = current_lms()
    return render_template(
        "devlms/placements.html",
        courses=[
            (course, lms.placements.in_course(course.id), lms.roster.members(course.id))
            for course in COURSES.values()
        ],
    )


@bp.get("/admin")
def admin() -> str:
    """Registered tools, Dynamic Registration and registration by hand."""
    return render_template("devlms/admin.html", tools=current_lms().tools.all())


@bp.post("/admin/register")
def admin_register() -> str | tuple[str, int]:
    """Open the tool's registration URL in an iframe, as LMSs do for Dynamic Registration."""
    lms = current_lms()
    url = request.form.get("registration_url", "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return error_page(400, "Cannot register", "Give the tool's registration URL (http(s)).")
    frame_url = with_query(
        url,
        openid_configuration=lms.url("/.well-known/openid-configuration"),
        registration_token=lms.tokens.issue_registration_token(),
    )
    return render_template(
        "devlms/admin_register.html",
        frame_url=frame_url,
        tool_origin=f"{parts.scheme}://{parts.netloc}",
    )


@bp.post("/admin/tools")
def admin_add_tool() -> Response | tuple[str, int]:
    """Register a tool by hand from its base URL."""
    form = request.form
    base_url = form.get("tool_base_url", "").strip()
    if urlsplit(base_url).scheme not in {"http", "https"}:
        return error_page(400, "Cannot add the tool", "Give the tool's base URL (http or https).")
    current_lms().add_tool(
        form.get("client_id", "").strip() or f"devlms-{secrets.token_hex(6)}",
        form.get("deployment_id", "").strip() or f"dep-{secrets.token_hex(4)}",
        base_url,
        name=form.get("name", "").strip() or "LTI tool",
    )
    return redirect(url_for("devlms_pages.admin"), 303)
