"""The administrator's institution settings page: pack, school-year end, privacy contact."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.access.ages import import_ages
from lti_tool.access.csv_problems import NOT_UTF8
from lti_tool.access.csv_problems import Problem as CsvProblem
from lti_tool.access.models import Course
from lti_tool.access.queries import find_course
from lti_tool.audit.operations import record
from lti_tool.deletion.dates import school_year_end_changed
from lti_tool.deletion.graduation import import_graduations
from lti_tool.errors import Forbidden, NotFound, _
from lti_tool.institution import operations
from lti_tool.institution.queries import (
    Institution,
    builtin_pack,
    institution_for,
    parse_month_day,
    today,
)
from lti_tool.lti.context import LaunchContext
from lti_tool.policy import PackError, Problem
from lti_tool.web.lifecycle import commit, db_session, runtime
from lti_tool.web.sessions import launch_required

bp = Blueprint("institution", __name__)


def _admin() -> tuple[LaunchContext, Institution]:
    ctx: LaunchContext = g.launch
    if not ctx.is_admin:
        raise Forbidden(_("Only an administrator can change the institution settings."))
    return ctx, institution_for(db_session(), runtime().settings, ctx.registration_id)


def _actor(ctx: LaunchContext) -> str:
    return f"{ctx.registration_id}:{ctx.user_sub}"


def _page(
    institution: Institution,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    problems: tuple[Problem, ...] = (),
    upload_error: str | None = None,
    age_problems: list[CsvProblem] | None = None,
    graduation_problems: list[CsvProblem] | None = None,
) -> tuple[str, int]:
    context: dict[str, Any] = {
        "institution": institution,
        "defaults": runtime().settings,
        "errors": errors or {},
        "form": form
        or {
            "school_year_end": ""
            if institution.school_year_end_is_default
            else institution.school_year_end,
            "privacy_officer_contact": ""
            if institution.contact_is_default
            else institution.privacy_officer_contact,
        },
        "problems": problems,
        "upload_error": upload_error,
        "age_problems": age_problems or [],
        "graduation_problems": graduation_problems or [],
        "course": _admin_course(),
        "saved": request.args.get("saved"),
    }
    return render_template("admin/settings.html", **context), status


def _admin_course() -> Course | None:
    ctx: LaunchContext = g.launch
    return find_course(db_session(), ctx.registration_id, ctx.context_id)


def _csv_text() -> str | None:
    """The CSV the administrator uploaded (a file) or pasted; None when the file is not
    UTF-8 text."""
    upload = request.files.get("file")
    raw = upload.read() if upload is not None and upload.filename else b""
    try:
        return raw.decode("utf-8-sig") if raw else request.form.get("csv", "")
    except UnicodeDecodeError:
        return None


@bp.post("/s/<sid>/admin/ages")
@launch_required
def ages() -> Response | tuple[str, int]:
    """Import students' birth dates or "under 16" flags (CSV, pasted or uploaded)."""
    ctx, institution = _admin()
    text = _csv_text()
    if text is None:
        return _page(institution, status=400, age_problems=[CsvProblem(0, NOT_UTF8)])
    report = import_ages(
        db_session(), ctx.registration_id, text, actor=_actor(ctx), today=today(runtime().settings)
    )
    if report.problems:
        return _page(institution, status=400, age_problems=report.problems)
    commit()
    return redirect(url_for("institution.settings", saved="ages"), 303)


@bp.post("/s/<sid>/admin/graduations")
@launch_required
def graduations() -> Response | tuple[str, int]:
    """Enter students' graduation dates (CSV, pasted or uploaded); G1 material is then
    scheduled for graduation + 2 years (G1.3)."""
    ctx, institution = _admin()
    text = _csv_text()
    if text is None:
        return _page(institution, status=400, graduation_problems=[CsvProblem(0, NOT_UTF8)])
    report = import_graduations(
        db_session(), ctx.registration_id, text, actor=_actor(ctx), today=today(runtime().settings)
    )
    if not report.ok:
        return _page(institution, status=400, graduation_problems=report.problems + report.unknown)
    commit()
    return redirect(url_for("institution.settings", saved="graduations"), 303)


@bp.post("/s/<sid>/admin/course-under-16")
@launch_required
def course_under_16() -> Response:
    """Whether every student of this course counts as under 16 unless an age says otherwise."""
    ctx, _institution = _admin()
    course = _admin_course()
    if course is None:
        raise NotFound()
    course.students_under_16 = request.form.get("under_16") == "yes"
    record(
        db_session(),
        "course.under-16-default",
        actor=_actor(ctx),
        course_id=course.id,
        under_16=course.students_under_16,
    )
    commit()
    return redirect(url_for("institution.settings", saved="course"), 303)


@bp.get("/s/<sid>/admin/settings")
@launch_required
def settings() -> tuple[str, int]:
    """What is in force, with forms to change it."""
    _ctx, institution = _admin()
    return _page(institution)


@bp.post("/s/<sid>/admin/settings")
@launch_required
def save_settings() -> Response | tuple[str, int]:
    """Change the school-year end and the privacy officer's contact (empty: the default)."""
    ctx, institution = _admin()
    form = {
        k: (request.form.get(k) or "").strip()
        for k in ("school_year_end", "privacy_officer_contact")
    }
    errors: dict[str, str] = {}
    if form["school_year_end"]:
        try:
            parse_month_day(form["school_year_end"])
        except ValueError:
            errors["school_year_end"] = _("Write the date as MM-DD, for example 07-31.")
    if len(form["privacy_officer_contact"]) > 255:
        errors["privacy_officer_contact"] = _("The contact can be at most 255 characters.")
    if errors:
        return _page(institution, status=400, errors=errors, form=form)
    changes = operations.update_settings(
        db_session(),
        institution,
        school_year_end=form["school_year_end"] or None,
        privacy_officer_contact=form["privacy_officer_contact"] or None,
        actor=_actor(ctx),
    )
    if "school_year_end" in changes:  # G2.5: G2 material ends at the new school-year end
        settings = runtime().settings
        school_year_end_changed(
            db_session(),
            ctx.registration_id,
            institution.pack,
            parse_month_day(form["school_year_end"] or settings.school_year_end),
            actor=_actor(ctx),
            today=today(settings),
        )
    commit()
    return redirect(url_for("institution.settings", saved="settings"), 303)


@bp.post("/s/<sid>/admin/pack")
@launch_required
def upload_pack() -> Response | tuple[str, int]:
    """Install an uploaded pack; a pack with any problem is refused whole and listed."""
    ctx, institution = _admin()
    upload = request.files.get("pack")
    if upload is None or not upload.filename:
        return _page(institution, status=400, upload_error=_("Choose a pack file to upload."))
    filename = upload.filename[:255]
    try:
        content = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        problem = Problem(filename, "", "is not UTF-8 text")
        return _page(institution, status=400, problems=(problem,))
    try:
        operations.install_pack(db_session(), institution, content, filename, actor=_actor(ctx))
    except PackError as error:
        return _page(institution, status=400, problems=error.problems)
    commit()
    return redirect(url_for("institution.settings", saved="pack"), 303)


@bp.post("/s/<sid>/admin/pack/builtin")
@launch_required
def builtin() -> Response:
    """Go back to the pack shipped with the tool."""
    ctx, institution = _admin()
    if institution.pack_row_id is not None:
        operations.use_builtin_pack(
            db_session(), institution, builtin_pack(runtime().settings), actor=_actor(ctx)
        )
        commit()
    return redirect(url_for("institution.settings", saved="pack"), 303)
