"""Pages of consent: the teacher's consent page of an item (ask, remind, record paper forms,
links for guests and parents, evidence), a person's own overview (answer, withdraw, object,
export) and the signed-link page for people without an LMS account."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.access.audience import active_students
from lti_tool.access.models import CourseGroup, GroupMember, Person
from lti_tool.access.operations import person_for
from lti_tool.consent import operations as ops
from lti_tool.consent import queries
from lti_tool.consent.models import AnsweredBy, ConsentRequest, ConsentText
from lti_tool.consent.state import RequestState
from lti_tool.errors import BadRequest, Forbidden, NotFound, _
from lti_tool.institution.queries import institution_for, today
from lti_tool.items import queries as item_queries
from lti_tool.items.models import Item
from lti_tool.lti.context import LaunchContext
from lti_tool.web.i18n import current_locale
from lti_tool.web.lifecycle import commit, db_session, runtime
from lti_tool.web.sessions import launch_required, launched_course

bp = Blueprint("consent", __name__)

STATE_LABELS = {
    "pending": _("Not answered yet"),
    "given": _("Consent given"),
    "refused": _("Consent refused"),
    "withdrawn": _("Consent withdrawn"),
    "unrecognisable": _("Made unrecognisable"),
}
BY_LABELS = {
    "self": _("by the person"),
    "guardian": _("by a parent or guardian"),
    "staff": _("recorded by staff from a signed form"),
}


@bp.before_request
def _scan_limit() -> None:
    """Paper forms come with a scan: a larger body than other forms (checked before parsing)."""
    if request.endpoint == "consent.paper":
        request.max_content_length = runtime().settings.max_scan_bytes + 64 * 1024


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"consent_states": STATE_LABELS, "consent_by": BY_LABELS}


def _context(registration_id: int) -> ops.Context:
    settings = runtime().settings
    return ops.Context(
        institution_for(db_session(), settings, registration_id), settings, today(settings)
    )


def _caller(ctx: LaunchContext) -> ops.Caller:
    return ops.Caller(
        registration_id=ctx.registration_id,
        person=person_for(db_session(), ctx.registration_id, ctx.user_sub),
        represents=frozenset(ctx.mentor_of) if ctx.is_mentor else frozenset(),
        is_teacher=ctx.is_teacher,
        audit_actor=f"{ctx.registration_id}:{ctx.user_sub}",
    )


def _request(ctx: LaunchContext, request_id: int) -> ConsentRequest:
    """A request of an item of the launch's course (404 for any other)."""
    session = db_session()
    course = launched_course()
    req = session.scalar(
        select(ConsentRequest)
        .join(Item, Item.id == ConsentRequest.item_id)
        .where(ConsentRequest.id == request_id, Item.course_id == course.id)
    )
    if req is None:
        raise NotFound()
    return req


def _refused_kept(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run an operation; when it refuses someone, keep its audit event and re-raise."""
    try:
        return call(*args, **kwargs)
    except ops.Refused:
        commit()
        raise


# --- teachers ---------------------------------------------------------------------------------


def _teacher_item(item_id: int) -> tuple[LaunchContext, Item]:
    ctx: LaunchContext = g.launch
    if not ctx.is_teacher:
        raise Forbidden(_("Only teachers of this course can manage consent."))
    return ctx, item_queries.get_item(db_session(), launched_course().id, item_id)


@bp.get("/s/<sid>/items/<int:item_id>/consent")
@launch_required
def item_page(item_id: int) -> str:
    """Who was asked, what they answered, who objects; ask more people, remind, record."""
    ctx, item = _teacher_item(item_id)
    session = db_session()
    context = _context(ctx.registration_id)
    view = queries.item_consent(session, item, context.today)
    asked = {row.request.person_id for row in view.rows}
    options = item_queries.audience_options(session, item.course_id)
    return render_template(
        "consent/item.html",
        item=item,
        view=view,
        students=[o for o in options.students if o.id not in asked],
        groups=[*options.sections, *options.groups],
        asks_students="students" in item.consent_from,
        asks_guests="guests" in item.consent_from,
        link=request.args.get("link"),
    )


def _ids(name: str) -> list[int]:
    values = request.form.getlist(name)
    if not all(v.isdigit() and len(v) < 12 for v in values):
        raise BadRequest(_("The form was changed; open the page again."))
    return [int(v) for v in values]


@bp.post("/s/<sid>/items/<int:item_id>/consent/ask")
@launch_required
def ask(item_id: int) -> WerkzeugResponse:
    """Ask the picked students (or everyone in the picked sections/groups) and named guests."""
    ctx, item = _teacher_item(item_id)
    session = db_session()
    group_ids = _ids("group_id")
    own_groups = set(
        session.scalars(
            select(CourseGroup.id).where(
                CourseGroup.course_id == item.course_id, CourseGroup.id.in_(group_ids)
            )
        )
    )
    if own_groups != set(group_ids):
        raise BadRequest(_("Pick sections and groups of this course."))
    in_groups = session.scalars(
        select(GroupMember.person_id).where(GroupMember.group_id.in_(group_ids))
    )
    students = active_students(session, item.course_id)
    people = set(_ids("person_id")) | (set(in_groups) & students)
    names = request.form.getlist("guest_name")
    emails = request.form.getlist("guest_email")
    guests = [(n, e) for n, e in zip(names, emails + [""] * len(names), strict=False) if n.strip()]
    if not people and not guests:
        raise BadRequest(_("Pick at least one student, section, group or guest to ask."))
    ops.ask(
        session, item, _context(ctx.registration_id), _caller(ctx), person_ids=people, guests=guests
    )
    commit()
    return redirect(url_for("consent.item_page", item_id=item.id), 303)


@bp.post("/s/<sid>/items/<int:item_id>/consent/remind")
@launch_required
def remind(item_id: int) -> WerkzeugResponse:
    """Remind those who have not answered (rate-limited)."""
    ctx, item = _teacher_item(item_id)
    ops.remind(db_session(), item, _caller(ctx), _context(ctx.registration_id))
    commit()
    return redirect(url_for("consent.item_page", item_id=item.id), 303)


@bp.post("/s/<sid>/consent/requests/<int:request_id>/link")
@launch_required
def link(request_id: int) -> str:
    """A signed link for a guest, or for a parent of a student under 16; shown once."""
    ctx: LaunchContext = g.launch
    if not ctx.is_teacher:
        raise Forbidden()
    req = _request(ctx, request_id)
    by = AnsweredBy.SELF if req.person_id is None else AnsweredBy.GUARDIAN
    token = ops.issue_link(
        db_session(),
        req,
        _context(ctx.registration_id),
        answered_by=by,
        holder_name=request.form.get("holder_name", ""),
        created_by=f"{ctx.registration_id}:{ctx.user_sub}",
    )
    commit()
    url = runtime().settings.base_url.rstrip("/") + url_for("consent.by_link", token=token)
    return render_template("consent/link_issued.html", req=req, url=url)


@bp.post("/s/<sid>/consent/requests/<int:request_id>/unrecognisable")
@launch_required
def unrecognisable(request_id: int) -> WerkzeugResponse:
    """The teacher confirms someone who did not consent was made unrecognisable."""
    ctx: LaunchContext = g.launch
    req = _request(ctx, request_id)
    if request.form.get("confirm") != "yes":
        raise BadRequest(_("Confirm that the person cannot be recognised any more."))
    _refused_kept(ops.mark_unrecognisable, db_session(), req, _caller(ctx))
    commit()
    return redirect(url_for("consent.item_page", item_id=req.item_id), 303)


@bp.post("/s/<sid>/consent/requests/<int:request_id>/paper")
@launch_required
def paper(request_id: int) -> WerkzeugResponse:
    """Staff record an answer given on a signed paper form, with its scan."""
    ctx: LaunchContext = g.launch
    req = _request(ctx, request_id)
    scan = request.files.get("scan")
    content = scan.read() if scan is not None else b""
    try:
        signed_by = AnsweredBy(request.form.get("signed_by", ""))
    except ValueError:
        raise BadRequest(_("Say who signed the form.")) from None
    _refused_kept(
        ops.record_paper,
        db_session(),
        req,
        _caller(ctx),
        answer=request.form.get("answer", ""),
        signed_by=signed_by,
        language=request.form.get("language", ""),
        scan=content,
        filename=(scan.filename or "scan") if scan is not None else "scan",
    )
    commit()
    return redirect(url_for("consent.item_page", item_id=req.item_id), 303)


def _evidence(item_id: int) -> dict[str, Any]:
    ctx, item = _teacher_item(item_id)
    return queries.evidence(db_session(), item, _context(ctx.registration_id).today)


@bp.get("/s/<sid>/items/<int:item_id>/consent/evidence.json")
@launch_required
def evidence_json(item_id: int) -> Response:
    """The evidence file of one item, for a privacy officer to file."""
    body = json.dumps(_evidence(item_id), indent=2, ensure_ascii=False, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="consent-item-{item_id}.json"'},
    )


@bp.get("/s/<sid>/items/<int:item_id>/consent/evidence")
@launch_required
def evidence_page(item_id: int) -> str:
    """The evidence file as a readable, printable page."""
    return render_template("consent/evidence.html", evidence=_evidence(item_id))


# --- a person's own view ----------------------------------------------------------------------


def _concerned(ctx: LaunchContext) -> list[Person]:
    """The people the launching user acts for: themself, or the students a parent represents."""
    session = db_session()
    if ctx.is_student:
        return [person_for(session, ctx.registration_id, ctx.user_sub)]
    if ctx.is_mentor and ctx.mentor_of:
        return list(
            session.scalars(
                select(Person)
                .where(Person.registration_id == ctx.registration_id, Person.sub.in_(ctx.mentor_of))
                .order_by(Person.name)
            )
        )
    return []


def _views(ctx: LaunchContext) -> list[queries.MyView]:
    course = launched_course()
    day = _context(ctx.registration_id).today
    return [queries.my_view(db_session(), p, course, day) for p in _concerned(ctx)]


@bp.get("/s/<sid>/mine")
@launch_required
def mine() -> str:
    """My recordings and consents (or those of the students a parent represents)."""
    ctx: LaunchContext = g.launch
    if not (ctx.is_student or ctx.is_mentor):
        raise Forbidden()
    views = _views(ctx)
    locale = current_locale()
    hashes = {m.request.request.text_hash(locale) for v in views for m in v.items if m.request}
    return render_template(
        "consent/mine.html",
        views=views,
        guardian=ctx.is_mentor and not ctx.is_student,
        locale=locale,
        texts=_texts(hashes),
    )


def _texts(hashes: set[str]) -> dict[str, list[str]]:
    rows = db_session().scalars(select(ConsentText).where(ConsentText.hash.in_(hashes)))
    return {t.hash: t.body.split("\n\n") for t in rows}


@bp.get("/s/<sid>/mine.json")
@launch_required
def mine_json(**_kw: Any) -> Response:
    """Everything of "my recordings and consents" as JSON (right of access, art. 15)."""
    ctx: LaunchContext = g.launch
    if not (ctx.is_student or ctx.is_mentor):
        raise Forbidden()
    data = [
        {
            "person": {"name": v.person.name, "user_id": v.person.sub},
            "parent_or_guardian_answers": v.guardian_answers,
            "items": [
                {
                    "id": m.item.id,
                    "title": m.item.title,
                    "rule": m.item.rule,
                    "legal_basis": m.item.legal_basis.value,
                    "purpose": m.item.purpose.value,
                    "audience": m.item.audience.value,
                    "made": m.item.made.value,
                    "in_audience": m.in_audience,
                    "appears_in_recording": m.appears,
                    "delete_on": m.item.delete_on.isoformat() if m.item.delete_on else None,
                    "review_on": m.item.review_on.isoformat() if m.item.review_on else None,
                    "objecting": m.objecting,
                    "consent": None
                    if m.request is None
                    else {
                        "state": m.request.state,
                        "answered_by": m.request.status.answered_by,
                        "at": m.request.status.at.isoformat() if m.request.status.at else None,
                        "text_hash": m.request.request.text_hash(current_locale()),
                        "deletion_plan": None
                        if m.request.plan is None
                        else {
                            "action": m.request.plan.action.value,
                            "delete_on": m.request.plan.delete_on.isoformat(),
                        },
                    },
                }
                for m in v.items
            ],
        }
        for v in _views(ctx)
    ]
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-recordings-and-consents.json"'},
    )


@bp.post("/s/<sid>/consent/requests/<int:request_id>/answer")
@launch_required
def answer(request_id: int) -> WerkzeugResponse:
    """Yes or no to a request, by the student (16+) or a parent (under 16)."""
    ctx: LaunchContext = g.launch
    req = _request(ctx, request_id)
    _refused_kept(
        ops.answer,
        db_session(),
        req,
        _caller(ctx),
        _context(ctx.registration_id),
        request.form.get("answer", ""),
        request.form.get("shown", ""),
    )
    commit()
    return redirect(url_for("consent.mine", _anchor=f"request-{req.id}"), 303)


@bp.post("/s/<sid>/consent/requests/<int:request_id>/confirm")
@launch_required
def confirm(request_id: int) -> WerkzeugResponse:
    """A student who turned 16 confirms the consent a parent gave."""
    ctx: LaunchContext = g.launch
    req = _request(ctx, request_id)
    _refused_kept(ops.confirm_own, db_session(), req, _caller(ctx), _context(ctx.registration_id))
    commit()
    return redirect(url_for("consent.mine", _anchor=f"request-{req.id}"), 303)


@bp.route("/s/<sid>/consent/requests/<int:request_id>/withdraw", methods=["GET", "POST"])
@launch_required
def withdraw(request_id: int) -> WerkzeugResponse | str:
    """Withdraw a consent: one confirmation, then effective at once, with the deletion plan."""
    ctx: LaunchContext = g.launch
    req = _request(ctx, request_id)
    session = db_session()
    item = session.get_one(Item, req.item_id)
    if request.method == "GET":
        return render_template("consent/withdraw.html", req=req, item=item)
    plan = _refused_kept(ops.withdraw, session, req, _caller(ctx), _context(ctx.registration_id))
    commit()
    return render_template("consent/withdrawn.html", item=item, plan=plan)


@bp.route("/s/<sid>/items/<int:item_id>/object", methods=["GET", "POST"])
@launch_required
def object_to(item_id: int) -> str:
    """Object to (or take back an objection to) a live lesson or assessment recording."""
    ctx: LaunchContext = g.launch
    session = db_session()
    item = item_queries.get_item(session, launched_course().id, item_id)
    raw = request.values.get("person", "")
    if raw:  # whoever it names: the operation refuses (audited) all but oneself or one's child
        student = session.get(Person, int(raw)) if raw.isdigit() and len(raw) < 12 else None
        if student is None or student.registration_id != ctx.registration_id:
            raise NotFound()
    else:
        people = _concerned(ctx)
        if len(people) != 1:
            raise BadRequest(_("Say for whom you object."))
        student = people[0]
    objecting = request.values.get("objecting", "1") == "1"
    if request.method == "GET":
        return render_template(
            "consent/object.html", item=item, student=student, objecting=objecting
        )
    _refused_kept(
        ops.object_to,
        session,
        item,
        student,
        _caller(ctx),
        _context(ctx.registration_id),
        objecting=objecting,
    )
    commit()
    return render_template("consent/objected.html", item=item, objecting=objecting)


# --- signed links -----------------------------------------------------------------------------


@bp.route("/consent/link/<token>", methods=["GET", "POST"])
def by_link(token: str) -> str:
    """A guest or a parent answers (or withdraws) through a signed link; no account needed."""
    session = db_session()
    if request.method == "GET":
        try:
            link = ops.open_link(session, token)
        except ops.Refused:
            commit()
            raise
        req = link.request
        item = session.get_one(Item, req.item_id)
        status = ops.item_statuses(session, item).get(req.id)
        locale = current_locale()
        shown = req.text_hash(locale)
        return render_template(
            "consent/by_link.html",
            token=token,
            item=item,
            link=link,
            shown=shown,
            paragraphs=_texts({shown}).get(shown, []),
            state=RequestState.PENDING.value if status is None else status.state.value,
        )
    action = request.form.get("action", "")
    if action not in ("answer", "withdraw"):
        raise BadRequest()
    try:
        link = ops.open_link(session, token)
    except ops.Refused:
        commit()
        raise
    context = _context(session.get_one(Item, link.request.item_id).course.registration_id)
    try:
        new_token = ops.answer_by_link(
            session,
            token,
            context,
            action,
            request.form.get("answer", ""),
            request.form.get("shown", ""),
        )
    except ops.Refused:
        commit()
        raise
    commit()
    url = runtime().settings.base_url.rstrip("/") + url_for("consent.by_link", token=new_token)
    return render_template("consent/link_done.html", url=url, action=action)
