"""Pages of items: the teacher's setup wizard (with and without JavaScript), one item,
changing and cancelling it. Every page is inside a launch session (``/s/<sid>/...``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from lti_tool.access.audience import audience_of, can_see, members
from lti_tool.access.models import Course, Person
from lti_tool.access.operations import person_for
from lti_tool.consent.queries import item_consent
from lti_tool.errors import Forbidden, NotFound, _
from lti_tool.institution.queries import Institution, institution_for, today
from lti_tool.items import operations, queries
from lti_tool.items.forms import (
    CHOICES,
    LABELS,
    QUESTIONS,
    Answers,
    FieldError,
    read_facts,
    read_setup,
)
from lti_tool.items.models import Item, ItemState
from lti_tool.items.presenting import describe, has_condition
from lti_tool.items.widening import widens
from lti_tool.lti.context import LaunchContext
from lti_tool.policy import Decision, Outcome, evaluate
from lti_tool.web.i18n import current_locale
from lti_tool.web.lifecycle import commit, db_session, runtime
from lti_tool.web.sessions import launch_required, launched_course

bp = Blueprint("items", __name__)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"item_labels": LABELS, "item_questions": QUESTIONS}


def _actor(ctx: LaunchContext) -> str:
    return f"{ctx.registration_id}:{ctx.user_sub}"


def _institution(ctx: LaunchContext) -> Institution:
    return institution_for(db_session(), runtime().settings, ctx.registration_id)


def _teacher_course() -> tuple[LaunchContext, Course]:
    ctx: LaunchContext = g.launch
    if not ctx.is_teacher:
        raise Forbidden(_("Only teachers of this course can set up recordings and streams."))
    return ctx, launched_course()


class _Wizard:
    """Renders the setup form for a new item or for changing ``item``."""

    def __init__(self, ctx: LaunchContext, course: Course, item: Item | None = None) -> None:
        self.ctx = ctx
        self.course = course
        self.item = item
        self.institution = _institution(ctx)
        self.options = queries.audience_options(db_session(), course.id)
        self.today = item.set_up_on if item else today(runtime().settings)

    def decision(self, answers: Answers) -> tuple[Decision | None, list[FieldError]]:
        """The decision the answers lead to: None while questions are open (no error) or when
        an answer is invalid (its error)."""
        if answers.missing:
            return None, []
        facts, errors = read_facts(answers, self.today)
        if facts is None:
            return None, errors
        return evaluate(facts, self.institution.pack, self.institution.policy), []

    def blocked(self, answers: Answers, decision: Decision | None) -> str | None:
        """The G3.3 message when the answers would widen a consent item."""
        item = self.item
        if item is None or decision is None or item.outcome is not Outcome.CONSENT_REQUIRED:
            return None
        setup = read_setup(answers, self.options, self.today)[0]
        if setup is None:
            return None
        session = db_session()
        after = members(session, item.course_id, setup.scope, setup.group_ids, setup.person_ids)
        if widens(item, setup, before=audience_of(session, item), after=after):
            return operations.NeedsNewConsent.reason
        return None

    def context(
        self,
        answers: Answers,
        decision: Decision | None,
        errors: list[FieldError],
        message: str | None = None,
    ) -> dict[str, Any]:
        """What the wizard page and its decision fragment show."""
        pack = self.institution.pack
        item = self.item
        return {
            "answers": answers,
            "errors": errors,
            "error_fields": {e.field for e in errors},
            "missing": answers.missing,
            "decision": None
            if decision is None
            else describe(decision.to_json(), pack, current_locale()),
            "blocked": self.blocked(answers, decision),
            "message": message,
            "contact": self.institution.privacy_officer_contact,
            "options": self.options,
            "choices": CHOICES,
            "questions": QUESTIONS,
            "g43": has_condition(pack, "G4.3"),
            "item": item,
            "action_url": url_for("items.edit", item_id=item.id) if item else url_for("items.new"),
            "preview_url": url_for("items.preview_item", item_id=item.id)
            if item
            else url_for("items.preview"),
        }

    def page(
        self,
        answers: Answers,
        *,
        decision: Decision | None = None,
        errors: list[FieldError] | None = None,
        message: str | None = None,
        status: int = 200,
    ) -> tuple[str, int]:
        if decision is None and not errors:
            decision, errors = self.decision(answers)
        context = self.context(answers, decision, errors or [], message)
        return render_template("items/wizard.html", **context), status

    def preview(self, answers: Answers) -> tuple[str, int]:
        """The page again with the decision the answers lead to (no JavaScript needed)."""
        decision, errors = self.decision(answers)
        return self.page(answers, decision=decision, errors=errors, status=400 if errors else 200)

    def fragment(self, answers: Answers) -> tuple[str, int]:
        """Only the decision, for the page's script."""
        decision, errors = self.decision(answers)
        context = self.context(answers, decision, errors)
        return render_template("items/_decision.html", **context), 400 if errors else 200

    def submit(self, answers: Answers, teacher: Person) -> Response | tuple[str, int]:
        """Create or change the item, or show the page again with what is wrong."""
        setup, errors = read_setup(answers, self.options, self.today)
        if setup is None:
            decision, _errors = self.decision(answers)
            return self.page(answers, decision=decision, errors=errors, status=400)
        session = db_session()
        try:
            if self.item is None:
                item = operations.create_item(
                    session, self.course, teacher, setup, self.institution, actor=_actor(self.ctx)
                )
            else:
                item = operations.update_item(
                    session, self.item, teacher, setup, self.institution, actor=_actor(self.ctx)
                )
        except operations.NotConfirmed as exc:
            missing = FieldError("confirm", _("Confirm every condition before you continue."))
            return self.page(answers, decision=exc.decision, errors=[missing], status=exc.status)
        except operations.SetupRefused as exc:
            return self.page(answers, decision=exc.decision, message=exc.reason, status=exc.status)
        except operations.NeedsNewConsent as exc:
            return self.page(answers, message=exc.reason, status=exc.status)
        commit()
        if item.state is ItemState.AWAITING_CONSENT:  # next: ask who can be recognised
            return redirect(url_for("consent.item_page", item_id=item.id), 303)
        return redirect(url_for("items.show", item_id=item.id), 303)


def _teacher(ctx: LaunchContext) -> Person:
    return person_for(db_session(), ctx.registration_id, ctx.user_sub)


@bp.route("/s/<sid>/items/new", methods=["GET", "POST"])
@launch_required
def new() -> Response | tuple[str, int]:
    """The setup wizard: four questions, the rule that applies, the conditions to confirm."""
    ctx, course = _teacher_course()
    wizard = _Wizard(ctx, course)
    if request.method == "GET":
        return wizard.page(Answers())
    answers = Answers.from_form(request.form)
    if request.form.get("action") != "create":
        return wizard.preview(answers)
    return wizard.submit(answers, _teacher(ctx))


@bp.post("/s/<sid>/items/preview")
@launch_required
def preview() -> tuple[str, int]:
    """The decision for the answers so far, as an HTML fragment (not audited, nothing stored)."""
    ctx, course = _teacher_course()
    return _Wizard(ctx, course).fragment(Answers.from_form(request.form))


def _own_item(item_id: int) -> tuple[LaunchContext, Course, Item]:
    ctx, course = _teacher_course()
    return ctx, course, queries.get_item(db_session(), course.id, item_id)


@bp.post("/s/<sid>/items/<int:item_id>/preview")
@launch_required
def preview_item(item_id: int) -> tuple[str, int]:
    """The decision for changed answers of an item, as an HTML fragment."""
    ctx, course, item = _own_item(item_id)
    return _Wizard(ctx, course, item).fragment(Answers.from_form(request.form))


@bp.route("/s/<sid>/items/<int:item_id>/edit", methods=["GET", "POST"])
@launch_required
def edit(item_id: int) -> Response | tuple[str, int]:
    """Change an item: decided again; a consent item cannot reach further (G3.3)."""
    ctx, course, item = _own_item(item_id)
    operations.check_changeable(item)
    wizard = _Wizard(ctx, course, item)
    if request.method == "GET":
        sections = [o.id for o in wizard.options.sections]
        return wizard.page(Answers.from_item(item, sections))
    answers = Answers.from_form(request.form)
    if request.form.get("action") != "create":
        return wizard.preview(answers)
    return wizard.submit(answers, _teacher(ctx))


@bp.get("/s/<sid>/items/<int:item_id>")
@launch_required
def show(item_id: int) -> str:
    """One item: everything for its teachers; for a student or parent it concerns, the facts
    in their own words. Anyone else gets 404."""
    ctx: LaunchContext = g.launch
    session = db_session()
    course = launched_course()
    item = queries.get_item(session, course.id, item_id)
    card = queries.card(item, current_locale())
    if ctx.is_teacher:
        return render_template(
            "items/show.html",
            card=card,
            teacher=True,
            confirmed_by=session.get(Person, item.confirmed_by_id),
            consent=item_consent(session, item, today(runtime().settings)),
        )
    viewers = [ctx.user_sub] if ctx.is_student else list(ctx.mentor_of) if ctx.is_mentor else []
    for sub in viewers:
        person = session.scalar(
            select(Person.id).where(
                Person.registration_id == ctx.registration_id, Person.sub == sub
            )
        )
        if person is not None and can_see(session, item, person):
            return render_template("items/show.html", card=card, teacher=False)
    raise NotFound()


@bp.route("/s/<sid>/items/<int:item_id>/cancel", methods=["GET", "POST"])
@launch_required
def cancel(item_id: int) -> Response | str:
    """Ask to confirm, then cancel the item."""
    ctx, _course, item = _own_item(item_id)
    operations.check_changeable(item)
    if request.method == "GET":
        return render_template("items/cancel.html", item=item)
    operations.cancel_item(db_session(), item, actor=_actor(ctx))
    commit()
    return redirect(url_for("web.home"), 303)
