"""Access and erasure requests (GDPR arts. 15 and 17): who may ask, recording them, and
carrying them out at once (flush, never commit; everything audited).

Who may ask about whom is decided here from the :class:`~lti_tool.consent.operations.Caller`
the web layer established: the person themself, a parent or guardian the platform says
represents a student under 16, or the privacy officer of the same registration. Every refused
attempt is audited before :class:`Refused` is raised; the web layer commits that event.

Erasure follows the guideline: consent-based material (G3) is withdrawn through the consent
operations, which plan its proportional deletion (G3.2); assessment material under a legal
retention duty (G1.3) is kept and the reason is given (GDPR art. 17(3)(b)); live lessons and
other class material are not kept beyond their date; an item the person is only the audience
of does not record them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from lti_tool.access.models import Course, Person
from lti_tool.audit.operations import record
from lti_tool.consent import operations as consent_ops
from lti_tool.consent.models import AnsweredBy
from lti_tool.consent.operations import Caller, Context
from lti_tool.consent.queries import MyItem, my_view
from lti_tool.consent.state import RequestState as ConsentState
from lti_tool.db import utcnow
from lti_tool.errors import Forbidden, _
from lti_tool.policy import LegalBasis, RetentionKind
from lti_tool.privacy import export
from lti_tool.privacy.models import (
    Capacity,
    OutcomeKind,
    PrivacyOutcome,
    PrivacyRequest,
    RequestKind,
    RequestState,
)

OBJECTABLE = {LegalBasis.LEGAL_TASK, LegalBasis.LEGITIMATE_INTEREST}

# The reason shown per outcome (English source text; %(rule)s, %(retention_rule)s and
# %(until)s are filled in when shown, in the reader's language).
REASONS = {
    OutcomeKind.ERASED: _(
        "Your consent was withdrawn (%(rule)s). It is deleted on %(until)s following the "
        "deletion plan (%(retention_rule)s)."
    ),
    OutcomeKind.ALREADY_PLANNED: _(
        "Consent had already been withdrawn; it is deleted on %(until)s following the deletion "
        "plan (%(retention_rule)s)."
    ),
    OutcomeKind.NO_CONSENT: _(
        "You did not consent, so it is not published with you recognisable in it (%(rule)s). "
        "It is deleted on %(until)s at the latest."
    ),
    OutcomeKind.KEPT_LEGAL_DUTY: _(
        "Kept: the school must keep assessment material (%(rule)s, %(retention_rule)s); the "
        "right to erasure does not apply while that duty runs (GDPR art. 17(3)(b)). Kept until "
        "%(until)s, then deleted. You can object; your teacher sees the objection."
    ),
    OutcomeKind.DELETED_AT_YEAR_END: _(
        "Lessons streamed for the class are not kept beyond their date (%(rule)s, "
        "%(retention_rule)s): it is deleted on %(until)s. You can object to it."
    ),
    OutcomeKind.NOT_ABOUT_PERSON: _(
        "You are in its audience only; nobody asked for your consent, so you are not meant to "
        "be recognisable in it (%(rule)s). It is deleted or reviewed on %(until)s."
    ),
}


class Refused(Forbidden):
    """Somebody asked about a person they may not ask about (audited)."""

    reason = _(
        "You can only ask about yourself, or about a student under 16 whose parent or guardian "
        "you are."
    )


class StudentAsks(Refused):
    reason = _("This student is 16 or older and makes this request themself.")


@dataclass(frozen=True)
class Outcome:
    """What an erasure request did to one item, before it is stored."""

    kind: OutcomeKind
    until: dt.date | None
    deletion_plan_id: int | None = None


def _refuse(
    session: Session, error: Refused, caller: Caller, subject: Person, **data: Any
) -> NoReturn:
    record(
        session,
        "privacy.refused",
        actor=caller.audit_actor,
        registration_id=caller.registration_id,
        subject=f"person:{subject.id}",
        reason=error.reason,
        **data,
    )
    raise error


def capacity(
    session: Session,
    subject: Person,
    caller: Caller,
    ctx: Context,
    *,
    course: Course | None,
    officer: bool = False,
) -> Capacity:
    """In what capacity ``caller`` may ask about ``subject``: themself (at any age),
    a parent or guardian of a student under 16 in ``course`` (the launch's course), or the
    privacy officer (``officer``: the web layer checked the administrator role) of the same
    registration. Anyone else is refused, audited."""
    if subject.registration_id != caller.registration_id:
        _refuse(session, Refused(), caller, subject, why="other-registration")
    if officer:
        return Capacity.OFFICER
    if caller.person is not None and caller.person.id == subject.id:
        return Capacity.SELF
    if caller.person is not None and subject.sub in caller.represents:
        if course is None or not consent_ops.minor(subject, course, ctx.today):
            _refuse(session, StudentAsks(), caller, subject, why="16-or-older")
        return Capacity.GUARDIAN
    _refuse(session, Refused(), caller, subject, why="not-represented")


def _received(
    session: Session, kind: RequestKind, subject: Person, caller: Caller, by: Capacity
) -> PrivacyRequest:
    req = PrivacyRequest(
        registration_id=subject.registration_id,
        kind=kind,
        subject_id=subject.id,
        requester_id=None if caller.person is None else caller.person.id,
        capacity=by,
        requested_by=caller.audit_actor,
        state=RequestState.RECEIVED,
    )
    session.add(req)
    session.flush()
    record(
        session,
        "privacy.request-received",
        actor=caller.audit_actor,
        registration_id=subject.registration_id,
        subject=f"person:{subject.id}",
        request=req.id,
        request_kind=kind.value,
        capacity=by.value,
    )
    return req


def _carried_out(session: Session, req: PrivacyRequest, caller: Caller, **data: Any) -> None:
    req.state = RequestState.CARRIED_OUT
    req.carried_out_at = utcnow()
    session.flush()
    record(
        session,
        f"privacy.{req.kind.value}-carried-out",
        actor=caller.audit_actor,
        registration_id=req.registration_id,
        subject=f"person:{req.subject_id}",
        request=req.id,
        **data,
    )


def request_access(
    session: Session, subject: Person, caller: Caller, ctx: Context, by: Capacity
) -> tuple[PrivacyRequest, dict[str, Any]]:
    """Record an access request (art. 15) and carry it out at once: returns the request and
    the export handed out (its sha256 is kept with the request)."""
    req = _received(session, RequestKind.ACCESS, subject, caller, by)
    data = export.person_export(session, subject, ctx.today)
    req.export_sha256 = export.export_digest(data)
    _carried_out(
        session,
        req,
        caller,
        export_sha256=req.export_sha256,
        sections={k: len(v) for k, v in data.items() if isinstance(v, list | dict)},
    )
    return req, data


def _answered_by(by: Capacity) -> AnsweredBy:
    return {
        Capacity.SELF: AnsweredBy.SELF,
        Capacity.GUARDIAN: AnsweredBy.GUARDIAN,
        Capacity.OFFICER: AnsweredBy.STAFF,
    }[by]


def _decide(session: Session, m: MyItem, caller: Caller, ctx: Context, by: Capacity) -> Outcome:
    """What erasure means for one item that concerns the person (and do it)."""
    item, row = m.item, m.request
    until = item.delete_on or item.review_on
    if row is not None:  # asked for consent: the person is recognisable in it (consent-based)
        if row.status.state is ConsentState.GIVEN and item.removed_at is None:
            ledger_actor = caller.ledger_actor
            plan = consent_ops.withdraw_on_request(
                session,
                row.request,
                ctx,
                actor=ledger_actor if by is not Capacity.OFFICER else f"staff:{ledger_actor}",
                audit_actor=caller.audit_actor,
                answered_by=_answered_by(by),
            )
            return Outcome(OutcomeKind.ERASED, plan.delete_on, plan.id)
        if row.plan is not None or item.removed_at is not None:
            return Outcome(
                OutcomeKind.ALREADY_PLANNED, row.plan.delete_on if row.plan else item.delete_on
            )
        return Outcome(OutcomeKind.NO_CONSENT, until)
    if item.retention_kind is RetentionKind.UNTIL_GRADUATION:
        return Outcome(OutcomeKind.KEPT_LEGAL_DUTY, until)
    if item.legal_basis in OBJECTABLE:
        return Outcome(OutcomeKind.DELETED_AT_YEAR_END, until)
    return Outcome(OutcomeKind.NOT_ABOUT_PERSON, until)


def items_concerning(
    session: Session, subject: Person, today: dt.date
) -> list[tuple[Course, list[MyItem]]]:
    """Per course of the person, the items that concern them: those they were asked to
    consent to, those whose audience they are in and those whose recordings they appear in
    (the consent area's own view)."""
    return [
        (course, my_view(session, subject, course, today).items)
        for _membership, course in export.courses_of(session, subject)
    ]


def request_erasure(
    session: Session, subject: Person, caller: Caller, ctx: Context, by: Capacity
) -> PrivacyRequest:
    """Record an erasure request (art. 17) and carry it out at once, item by item; each
    outcome is stored with its reason and audited on the item."""
    req = _received(session, RequestKind.ERASURE, subject, caller, by)
    counts: dict[str, int] = {}
    for course, items in items_concerning(session, subject, ctx.today):
        for m in items:
            item = m.item
            decided = _decide(session, m, caller, ctx, by)
            outcome = PrivacyOutcome(
                item_id=item.id,
                item_title=item.title,
                course_id=course.id,
                rule=item.rule,
                retention_rule=item.retention_rule
                if decided.kind not in (OutcomeKind.ERASED, OutcomeKind.ALREADY_PLANNED)
                else "G3.2",
                outcome=decided.kind,
                until=decided.until,
                reason=REASONS[decided.kind],
                deletion_plan_id=decided.deletion_plan_id,
            )
            req.outcomes.append(outcome)
            session.flush()
            record(
                session,
                "privacy.erasure-outcome",
                actor=caller.audit_actor,
                registration_id=subject.registration_id,
                course_id=item.course_id,
                subject=item.subject,
                request=req.id,
                person=subject.id,
                outcome=decided.kind.value,
                rule=item.rule,
                until=None if decided.until is None else decided.until.isoformat(),
            )
            counts[decided.kind.value] = counts.get(decided.kind.value, 0) + 1
    _carried_out(session, req, caller, outcomes=counts)
    return req
