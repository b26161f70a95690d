"""Pages of people's rights (access and erasure requests, from a student's or parent's own
page) and the privacy officer's desk (administrators of the launch's registration only)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from flask_babel import format_date, gettext
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.access.models import Course, Person
from lti_tool.access.operations import person_for
from lti_tool.access.queries import find_course
from lti_tool.consent import queries as consent_queries
from lti_tool.consent.operations import Caller, Context, minor
from lti_tool.errors import BadRequest, Forbidden, NotFound, _
from lti_tool.institution.queries import institution_for, today
from lti_tool.items.models import Item
from lti_tool.lti.context import LaunchContext
from lti_tool.privacy import export, queries
from lti_tool.privacy import operations as ops
from lti_tool.privacy.models import Capacity, PrivacyOutcome, PrivacyRequest
from lti_tool.privacy.register import register_csv, register_json
from lti_tool.web.i18n import current_locale
from lti_tool.web.lifecycle import commit, db_session, runtime
from lti_tool.web.sessions import launch_required

bp = Blueprint("privacy", __name__)

OUTCOME_LABELS = {
    "erased": _("Consent withdrawn, deletion planned"),
    "already-planned": _("Deletion already planned"),
    "no-consent": _("Not published with you in it"),
    "kept-legal-duty": _("Kept: legal retention duty"),
    "deleted-at-year-end": _("Deleted on its date"),
    "not-about-person": _("You are only in its audience"),
}
KIND_LABELS = {"access": _("Access (GDPR art. 15)"), "erasure": _("Erasure (GDPR art. 17)")}
STATE_LABELS = {"received": _("Received"), "carried-out": _("Carried out")}
CAPACITY_LABELS = {
    "self": _("by the person"),
    "guardian": _("by a parent or guardian"),
    "officer": _("by the privacy officer"),
}


def outcome_reason(outcome: PrivacyOutcome) -> str:
    """The reason of an outcome in the reader's language, with its rule and date."""
    return str(
        gettext(
            outcome.reason,
            rule=outcome.rule,
            retention_rule=outcome.retention_rule,
            until="—" if outcome.until is None else format_date(outcome.until, "long"),
        )
    )


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "privacy_outcomes": OUTCOME_LABELS,
        "privacy_kinds": KIND_LABELS,
        "privacy_states": STATE_LABELS,
        "privacy_capacities": CAPACITY_LABELS,
        "outcome_reason": outcome_reason,
    }


def _context(registration_id: int) -> Context:
    settings = runtime().settings
    return Context(
        institution_for(db_session(), settings, registration_id), settings, today(settings)
    )


def _caller(ctx: LaunchContext) -> Caller:
    return Caller(
        registration_id=ctx.registration_id,
        person=person_for(db_session(), ctx.registration_id, ctx.user_sub),
        represents=frozenset(ctx.mentor_of) if ctx.is_mentor else frozenset(),
        is_teacher=ctx.is_teacher,
        audit_actor=f"{ctx.registration_id}:{ctx.user_sub}",
    )


def _course(ctx: LaunchContext) -> Course | None:
    return find_course(db_session(), ctx.registration_id, ctx.context_id)


def _refused_kept(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run an operation; when it refuses someone, keep its audit event and re-raise."""
    try:
        return call(*args, **kwargs)
    except ops.Refused:
        commit()
        raise


def _export_response(data: dict[str, Any], fmt: str, name: str) -> Response | str:
    if fmt == "json":
        return Response(
            export.export_json(data),
            mimetype="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
        )
    return render_template("privacy/export.html", data=data)


def _format() -> str:
    fmt = request.form.get("format", "html")
    if fmt not in ("html", "json"):
        raise BadRequest(_("Choose HTML or JSON."))
    return fmt


# --- a person's own requests ------------------------------------------------------------------


def _concerned(ctx: LaunchContext) -> list[Person]:
    """Whom the launching user may ask about: themself and, for a parent or guardian, the
    students the platform says they represent (the operation checks their age)."""
    session = db_session()
    people = [person_for(session, ctx.registration_id, ctx.user_sub)]
    if ctx.is_mentor and ctx.mentor_of:
        people += session.scalars(
            select(Person)
            .where(Person.registration_id == ctx.registration_id, Person.sub.in_(ctx.mentor_of))
            .order_by(Person.name)
        )
    return people


def _subject() -> Person:
    """The person named in the form (any person: the operation refuses, audited, all but
    oneself or one's child under 16)."""
    raw = request.values.get("person", "")
    person = db_session().get(Person, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if person is None:
        raise BadRequest(_("Say whom the request is about."))
    return person


def _minors(ctx: LaunchContext, people: list[Person]) -> set[int]:
    """Ids of the represented students a parent may act for here: under 16 in this course."""
    course = _course(ctx)
    day = _context(ctx.registration_id).today
    return {
        p.id
        for p in people
        if course is not None and p.sub != ctx.user_sub and minor(p, course, day)
    }


def _visible(ctx: LaunchContext) -> set[int]:
    """Whose requests the launching user may see: their own and their children's under 16."""
    people = _concerned(ctx)
    return {p.id for p in people if p.sub == ctx.user_sub} | _minors(ctx, people)


@bp.get("/s/<sid>/privacy")
@launch_required
def mine() -> str:
    """My data and my rights: get everything the tool holds about me, or ask for erasure."""
    ctx: LaunchContext = g.launch
    people = _concerned(ctx)
    return render_template(
        "privacy/mine.html",
        people=people,
        self_sub=ctx.user_sub,
        minors=_minors(ctx, people),
        requests=queries.requests_about(db_session(), sorted(_visible(ctx))),
    )


@bp.post("/s/<sid>/privacy/access")
@launch_required
def access() -> Response | str:
    """Ask for access (art. 15): the request is recorded and the export handed out at once."""
    ctx: LaunchContext = g.launch
    session = db_session()
    subject = _subject()
    fmt = _format()
    context = _context(ctx.registration_id)
    caller = _caller(ctx)
    by = _refused_kept(ops.capacity, session, subject, caller, context, course=_course(ctx))
    _req, data = ops.request_access(session, subject, caller, context, by)
    commit()
    return _export_response(data, fmt, "my-data")


@bp.route("/s/<sid>/privacy/erasure", methods=["GET", "POST"])
@launch_required
def erasure() -> WerkzeugResponse | str:
    """Ask for erasure (art. 17): one confirmation, then carried out at once."""
    ctx: LaunchContext = g.launch
    session = db_session()
    subject = _subject()
    context = _context(ctx.registration_id)
    caller = _caller(ctx)
    by = _refused_kept(ops.capacity, session, subject, caller, context, course=_course(ctx))
    if request.method == "GET":
        return render_template("privacy/erasure.html", subject=subject, capacity=by.value)
    req = ops.request_erasure(session, subject, caller, context, by)
    commit()
    return redirect(url_for("privacy.request_page", request_id=req.id), 303)


@bp.get("/s/<sid>/privacy/requests/<int:request_id>")
@launch_required
def request_page(request_id: int) -> str:
    """A request about me (or my child) and what was done."""
    ctx: LaunchContext = g.launch
    req = db_session().get(PrivacyRequest, request_id)
    if req is None or req.subject_id not in _visible(ctx):
        raise NotFound()
    return render_template("privacy/request.html", req=req, desk=False)


# --- the privacy officer's desk ---------------------------------------------------------------


def _officer() -> LaunchContext:
    ctx: LaunchContext = g.launch
    if not ctx.is_admin:
        raise Forbidden(_("Only the privacy officer (an administrator) can open the desk."))
    return ctx


SWEEP_STATES = {
    "overdue": _("overdue: the sweep has not reached it yet"),
    "marked": _("started, not finished: the next sweep resumes it"),
    "provider-deleted": _("media removed, not yet recorded as done"),
    "failed": _("failed: tried again later"),
}


@bp.get("/s/<sid>/desk")
@launch_required
def desk() -> str:
    """Everything coming up, everything open, and the exports."""
    ctx = _officer()
    session = db_session()
    day = _context(ctx.registration_id).today
    reg = ctx.registration_id
    raw = request.args.get("days", "90")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= 800):
        raise BadRequest(_("Show between 1 and 800 days ahead."))
    days = int(raw)
    return render_template(
        "privacy/desk.html",
        today=day,
        days=days,
        upcoming=queries.upcoming(session, reg, day, days),
        sweep=queries.sweep_state(session, reg, day),
        sweep_states=SWEEP_STATES,
        plans=queries.open_plans(session, reg, day),
        events=queries.withdrawals_and_objections(session, reg),
        pending=queries.pending_by_course(session, reg),
        requests=queries.privacy_requests(session, reg),
    )


@bp.get("/s/<sid>/desk/audit")
@launch_required
def audit() -> str:
    """The audit log: filter by course, person, item, event kind and dates; newest first."""
    ctx = _officer()
    session = db_session()
    args = {k: v for k, v in request.args.items() if k != "lang"}
    page = queries.audit_search(
        session, ctx.registration_id, queries.parse_filter(session, ctx.registration_id, args)
    )
    return render_template(
        "privacy/audit.html",
        page=page,
        args=page.filters.args(),
        courses=session.scalars(
            select(Course)
            .where(Course.registration_id == ctx.registration_id)
            .order_by(Course.title, Course.id)
        ).all(),
    )


@bp.get("/s/<sid>/desk/register.<fmt>")
@launch_required
def register(fmt: str) -> Response:
    """The register of processing (GDPR art. 30) from the active pack, as CSV or JSON."""
    ctx = _officer()
    context = _context(ctx.registration_id)
    pack, locale = context.institution.pack, current_locale()
    if fmt == "csv":
        body, mimetype = register_csv(pack, locale), "text/csv"
    elif fmt == "json":
        data = register_json(pack, locale, context.today.isoformat())
        body, mimetype = json.dumps(data, indent=2, ensure_ascii=False), "application/json"
    else:
        raise NotFound()
    name = f"register-of-processing-{locale}.{fmt}"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _registration_item(ctx: LaunchContext, item_id: int) -> Item:
    item = db_session().scalar(
        select(Item)
        .join(Course, Course.id == Item.course_id)
        .where(Item.id == item_id, Course.registration_id == ctx.registration_id)
    )
    if item is None:
        raise NotFound()
    return item


@bp.get("/s/<sid>/desk/items/<int:item_id>/evidence")
@launch_required
def evidence_page(item_id: int) -> str:
    """The evidence file of one item (the consent area's, for any course of the institution)."""
    ctx = _officer()
    item = _registration_item(ctx, item_id)
    data = consent_queries.evidence(db_session(), item, _context(ctx.registration_id).today)
    return render_template("consent/evidence.html", evidence=data)


@bp.get("/s/<sid>/desk/items/<int:item_id>/evidence.json")
@launch_required
def evidence_json(item_id: int) -> Response:
    ctx = _officer()
    item = _registration_item(ctx, item_id)
    data = consent_queries.evidence(db_session(), item, _context(ctx.registration_id).today)
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False, default=str),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="consent-item-{item_id}.json"'},
    )


def _person_by_sub(ctx: LaunchContext) -> Person:
    sub = (request.form.get("user") or "").strip()
    person = (
        db_session().scalar(
            select(Person).where(Person.registration_id == ctx.registration_id, Person.sub == sub)
        )
        if sub and len(sub) <= 255
        else None
    )
    if person is None:
        raise BadRequest(queries.BadPerson.reason)
    return person


def _officer_caller(ctx: LaunchContext) -> tuple[Caller, Context]:
    return _caller(ctx), _context(ctx.registration_id)


@bp.post("/s/<sid>/desk/person-export")
@launch_required
def person_export() -> Response | str:
    """The privacy officer hands a person everything that concerns them (recorded, audited)."""
    ctx = _officer()
    subject = _person_by_sub(ctx)
    fmt = _format()
    caller, context = _officer_caller(ctx)
    by = ops.capacity(db_session(), subject, caller, context, course=None, officer=True)
    _req, data = ops.request_access(db_session(), subject, caller, context, by)
    commit()
    return _export_response(data, fmt, f"person-{subject.id}")


@bp.post("/s/<sid>/desk/erasure")
@launch_required
def officer_erasure() -> WerkzeugResponse:
    """The privacy officer records and carries out an erasure request received otherwise."""
    ctx = _officer()
    subject = _person_by_sub(ctx)
    if request.form.get("confirm") != "yes":
        raise BadRequest(_("Confirm that the person asked for erasure."))
    caller, context = _officer_caller(ctx)
    by = ops.capacity(db_session(), subject, caller, context, course=None, officer=True)
    assert by is Capacity.OFFICER
    req = ops.request_erasure(db_session(), subject, caller, context, by)
    commit()
    return redirect(url_for("privacy.desk_request", request_id=req.id), 303)


@bp.get("/s/<sid>/desk/requests/<int:request_id>")
@launch_required
def desk_request(request_id: int) -> str:
    ctx = _officer()
    req = db_session().get(PrivacyRequest, request_id)
    if req is None or req.registration_id != ctx.registration_id:
        raise NotFound()
    return render_template("privacy/request.html", req=req, desk=True)


@bp.get("/s/<sid>/desk/evidence")
@launch_required
def evidence_by_number() -> WerkzeugResponse:
    """The evidence form on the desk: the number of a recording or stream of the institution."""
    ctx = _officer()
    raw = (request.args.get("item") or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadRequest(queries.BadItem.reason)
    item = _registration_item(ctx, int(raw))
    return redirect(url_for("privacy.evidence_page", item_id=item.id), 303)
