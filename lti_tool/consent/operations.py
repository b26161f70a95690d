"""Asking, answering, withdrawing and objecting (flush, never commit; everything in the ledger).

Who may answer a request is decided here, from what the web layer established about the
caller (:class:`Caller`): the person asked (16 or older), a parent or guardian the platform says
represents them (under 16), the holder of a signed link, or staff recording a paper form with
its scan. Every refused attempt is audited before :class:`Refused` is raised; the web layer
commits that audit event and shows the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool.access.audience import active_students, audience_of
from lti_tool.access.models import Course, Person
from lti_tool.audit.operations import record
from lti_tool.config import Settings
from lti_tool.consent import ledger
from lti_tool.consent.minors import needs_guardian
from lti_tool.consent.models import (
    AnsweredBy,
    ConsentLink,
    ConsentRequest,
    ConsentScan,
    ConsentText,
    DeletionPlan,
    LedgerKind,
    LedgerRecord,
    Method,
)
from lti_tool.consent.state import RequestState, Status, statuses
from lti_tool.consent.texts import LANGUAGES, TEXT_VERSION, RequestFacts, request_text, text_hash
from lti_tool.db import get_or_create, utcnow
from lti_tool.errors import BadRequest, Conflict, Forbidden, ToolError, _
from lti_tool.institution.queries import Institution
from lti_tool.items.models import Item, ItemState
from lti_tool.policy import Audience, Consenter, LegalBasis, Outcome
from lti_tool.retention.plans import PlanAction, withdrawal_plan

_SCAN_MAGIC = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png"}
_COHORT = {Audience.ASSESSED, Audience.CLASS, Audience.INTERVISION, Audience.COHORT}
OBJECTABLE = {LegalBasis.LEGAL_TASK, LegalBasis.LEGITIMATE_INTEREST}


class Refused(Forbidden):
    """Somebody tried to act for someone they may not act for (audited)."""

    reason = _("You cannot answer for this person.")


class GuardianAnswers(Refused):
    reason = _("A parent or guardian answers this request for a student under 16.")


class StudentDecides(Refused):
    reason = _("This student is 16 or older and answers this request themself.")


class LinkRefused(Refused):
    reason = _(
        "This link does not work: it was changed, it has expired or it was already used. "
        "Ask the school for a new link."
    )


class NotAsked(Conflict):
    reason = _("This recording or stream does not ask for consent.")


class ItemClosed(Conflict):
    reason = _("This recording or stream was cancelled or removed; nothing can be changed.")


class NothingToWithdraw(Conflict):
    reason = _("There is no consent to withdraw.")


class NothingToConfirm(Conflict):
    reason = _("There is no consent of a parent or guardian to confirm.")


class StaleText(BadRequest):
    reason = _("The request you answered is not the one on record. Open it again and answer.")


class BadAnswer(BadRequest):
    reason = _("Answer yes or no.")


class NotInCourse(BadRequest):
    reason = _("Only active students of this course can be asked.")


class NoGuests(BadRequest):
    reason = _("This recording or stream does not involve guests.")


class GuestIncomplete(BadRequest):
    reason = _("Give the guest's name (and, if you like, an e-mail address).")


class NotObjectable(Conflict):
    reason = _("Objecting applies to assessment recordings and live lessons only.")


class BadScan(BadRequest):
    reason = _("Upload the signed form as a PDF, JPEG or PNG file.")


class CannotMarkUnrecognisable(Conflict):
    reason = _(
        "Only people who have not consented can be made unrecognisable; a withdrawal follows "
        "its deletion plan."
    )


class TooSoon(ToolError):
    status = 429
    reason = _("A reminder was sent recently. You can send the next one later.")


@dataclass(frozen=True)
class Caller:
    """Who acts, as the web layer established it from a launch (or a signed link)."""

    registration_id: int
    person: Person | None
    represents: frozenset[str] = frozenset()  # platform user ids (role_scope_mentor)
    is_teacher: bool = False
    audit_actor: str = "system"

    @property
    def ledger_actor(self) -> str:
        return "system" if self.person is None else f"person:{self.person.id}"


@dataclass(frozen=True)
class Context:
    """The institution and settings an operation needs, and the date it runs on."""

    institution: Institution
    settings: Settings
    today: dt.date


def _entry(item: Item, kind: LedgerKind, subject: str, **fields: Any) -> ledger.Entry:
    course: Course = item.course
    return ledger.Entry(
        kind=kind,
        registration_id=course.registration_id,
        course_id=item.course_id,
        item_ids=(item.id,),
        subject=subject,
        pack_version=str(item.decision.get("pack_version", "")),
        purpose=item.purpose.value,
        audience=item.audience.value,
        **fields,
    )


def _refuse(
    session: Session, error: Refused, caller: Caller, item: Item | None, **data: Any
) -> NoReturn:
    record(
        session,
        "consent.refused",
        actor=caller.audit_actor,
        registration_id=caller.registration_id or None,  # 0: a signed link, no registration
        course_id=None if item is None else item.course_id,
        subject=None if item is None else item.subject,
        reason=error.reason,
        **data,
    )
    raise error


def _open(item: Item) -> None:
    if item.state is ItemState.CANCELLED or item.removed_at is not None:
        raise ItemClosed()


def minor(person: Person, course: Course, today: dt.date) -> bool:
    """Whether a parent or guardian answers for ``person`` in ``course`` today."""
    return needs_guardian(person.birth_date, person.under_16, course.students_under_16, today)


# --- asking -------------------------------------------------------------------------------


def request_facts(item: Item, ctx: Context) -> RequestFacts:
    """What the request texts of ``item`` say."""
    until = item.delete_on or item.review_on
    assert until is not None  # items always have one (CHECK has_end_date)
    pack = ctx.institution.pack
    return RequestFacts(
        course=item.course.title or item.course.label,
        title=item.title,
        made=item.made.value,
        purpose=item.purpose.value,
        audience=item.audience.value,
        until=until,
        controller=ctx.settings.controller_name,
        contact=ctx.institution.privacy_officer_contact,
        rule=item.rule,
        pack_name=pack.name,
        pack_version=pack.version,
    )


def _texts(session: Session, facts: RequestFacts) -> dict[str, str]:
    hashes = {}
    for language in LANGUAGES:
        body = request_text(facts, language)
        digest = text_hash(body)
        get_or_create(
            session,
            ConsentText,
            {"version": TEXT_VERSION, "language": language, "body": body},
            hash=digest,
        )
        hashes[language] = digest
    return hashes


def ask(
    session: Session,
    item: Item,
    ctx: Context,
    caller: Caller,
    *,
    person_ids: Iterable[int] = (),
    guests: Sequence[tuple[str, str]] = (),
) -> list[ConsentRequest]:
    """Ask the picked students and the named guests (name, e-mail) to consent to ``item``;
    people already asked are skipped. Returns the new requests."""
    if item.outcome is not Outcome.CONSENT_REQUIRED:
        raise NotAsked()
    _open(item)
    wanted = set(person_ids)
    if wanted and Consenter.STUDENTS.value not in item.consent_from:
        raise NotInCourse()
    if wanted - active_students(session, item.course_id):
        raise NotInCourse()
    if guests and Consenter.GUESTS.value not in item.consent_from:
        raise NoGuests()
    for name, email in guests:
        if not name.strip() or len(name) > 200 or len(email) > 255:
            raise GuestIncomplete()
    asked = set(
        session.scalars(
            select(ConsentRequest.person_id).where(
                ConsentRequest.item_id == item.id, ConsentRequest.person_id.is_not(None)
            )
        )
    )
    hashes = _texts(session, request_facts(item, ctx))
    new = [ConsentRequest(person_id=person_id) for person_id in sorted(wanted - asked)] + [
        ConsentRequest(guest_name=name.strip(), guest_email=email.strip() or None)
        for name, email in guests
    ]
    for req in new:
        req.item_id = item.id
        req.text_en, req.text_nl = hashes["en"], hashes["nl"]
        req.asked_by = caller.audit_actor
        session.add(req)
    session.flush()
    for req in new:
        ledger.append(
            session,
            _entry(
                item,
                LedgerKind.ASKED,
                req.subject,
                request_id=req.id,
                actor=caller.ledger_actor,
                answered_by=AnsweredBy.STAFF,
                method=Method.TOOL,
                details={"text_en": req.text_en, "text_nl": req.text_nl, "version": TEXT_VERSION},
            ),
        )
    if new:
        record(
            session,
            "consent.asked",
            actor=caller.audit_actor,
            course_id=item.course_id,
            subject=item.subject,
            requests=[r.id for r in new],
        )
    settle(session, item, caller.audit_actor)
    return new


def item_statuses(session: Session, item: Item) -> dict[int, Status]:
    """The status of every request of ``item``."""
    return statuses(session, select(ConsentRequest.id).where(ConsentRequest.item_id == item.id))


def settle(session: Session, item: Item, actor: str) -> None:
    """Publish a consent item once every person asked has consented (or was made
    unrecognisable, or withdrew under a plan that keeps it this school year) — and take it back
    when that stops being true (G3 publication gate). Audited when the state changes.

    Callers appended to the ledger first, so they hold its lock: the item is read again here,
    as committed by whoever answered before (a page may have loaded it earlier)."""
    session.flush()
    session.refresh(item, with_for_update=True)
    if item.outcome is not Outcome.CONSENT_REQUIRED or item.state not in (
        ItemState.AWAITING_CONSENT,
        ItemState.READY,
    ):
        return
    if item.removed_at is not None:
        return
    found = item_statuses(session, item)
    request_ids = list(
        session.scalars(select(ConsentRequest.id).where(ConsentRequest.item_id == item.id))
    )
    kept = set(
        session.scalars(
            select(DeletionPlan.request_id).where(
                DeletionPlan.item_id == item.id,
                DeletionPlan.action == PlanAction.KEEP_UNTIL_YEAR_END,
            )
        )
    )
    settled = bool(request_ids) and all(
        (status := found.get(rid)) is not None
        and (
            status.state in (RequestState.GIVEN, RequestState.UNRECOGNISABLE)
            or (status.state is RequestState.WITHDRAWN and rid in kept)
        )
        for rid in request_ids
    )
    wanted = ItemState.READY if settled else ItemState.AWAITING_CONSENT
    if wanted is item.state:
        return
    item.state = wanted
    session.flush()
    record(
        session,
        "item.published" if settled else "item.unpublished",
        actor=actor,
        course_id=item.course_id,
        subject=item.subject,
        reason="every person asked consented" if settled else "a consent is missing",
    )


# --- who may answer ---------------------------------------------------------------------------


def capacity(session: Session, req: ConsentRequest, caller: Caller, ctx: Context) -> AnsweredBy:
    """In what capacity ``caller`` may answer ``req`` in the course; refuses (audited) anyone
    else, teachers included (they record paper forms instead)."""
    item: Item = session.get_one(Item, req.item_id)
    student = req.person
    if student is None or caller.person is None:
        _refuse(session, Refused(), caller, item, request=req.id)
    under_16 = minor(student, item.course, ctx.today)
    if caller.person.id == student.id:
        if under_16:
            _refuse(session, GuardianAnswers(), caller, item, request=req.id)
        return AnsweredBy.SELF
    if student.sub in caller.represents and student.registration_id == caller.registration_id:
        if not under_16:
            _refuse(session, StudentDecides(), caller, item, request=req.id)
        return AnsweredBy.GUARDIAN
    _refuse(session, Refused(), caller, item, request=req.id, for_person=student.id)


def may_withdraw(session: Session, req: ConsentRequest, caller: Caller, ctx: Context) -> AnsweredBy:
    """Like :func:`capacity`, but a student under 16 may also withdraw (protecting oneself is
    never refused)."""
    if req.person is not None and caller.person is not None and caller.person.id == req.person_id:
        return AnsweredBy.SELF
    return capacity(session, req, caller, ctx)


def _language_of(req: ConsentRequest, shown: str) -> str:
    for language in LANGUAGES:
        if req.text_hash(language) == shown:
            return language
    raise StaleText()


# --- answering --------------------------------------------------------------------------------


def _answer(
    session: Session,
    req: ConsentRequest,
    answer: str,
    shown: str,
    *,
    actor: str,
    audit_actor: str,
    answered_by: AnsweredBy,
    method: Method,
    details: dict[str, Any] | None = None,
) -> LedgerRecord:
    item: Item = session.get_one(Item, req.item_id)
    if answer not in ("yes", "no"):
        raise BadAnswer()
    _open(item)
    language = _language_of(req, shown)
    entry = ledger.append(
        session,
        _entry(
            item,
            LedgerKind.ANSWERED,
            req.subject,
            request_id=req.id,
            actor=actor,
            answered_by=answered_by,
            method=method,
            answer=answer,
            text_hash=shown,
            details={"language": language, **(details or {})},
        ),
    )
    record(
        session,
        "consent.answered",
        actor=audit_actor,
        course_id=item.course_id,
        subject=item.subject,
        request=req.id,
        answer=answer,
        answered_by=answered_by.value,
        method=method.value,
        ledger_seq=entry.seq,
    )
    settle(session, item, audit_actor)
    return entry


def answer(
    session: Session, req: ConsentRequest, caller: Caller, ctx: Context, answer: str, shown: str
) -> LedgerRecord:
    """``caller`` answers ``req`` yes or no in a launch; ``shown`` is the hash of the text the
    page showed (it must be one of the request's own texts)."""
    by = capacity(session, req, caller, ctx)
    return _answer(
        session,
        req,
        answer,
        shown,
        actor=caller.ledger_actor,
        audit_actor=caller.audit_actor,
        answered_by=by,
        method=Method.LMS,
    )


def scan_type(content: bytes) -> str | None:
    """The media type of a scan judged by its first bytes (PDF, JPEG, PNG), or None."""
    for magic, media_type in _SCAN_MAGIC.items():
        if content.startswith(magic):
            return media_type
    return None


def record_paper(
    session: Session,
    req: ConsentRequest,
    caller: Caller,
    *,
    answer: str,
    signed_by: AnsweredBy,
    language: str,
    scan: bytes,
    filename: str,
) -> LedgerRecord:
    """Staff record an answer given on a signed paper form (the request printed in
    ``language``), with its scan (teachers only)."""
    item: Item = session.get_one(Item, req.item_id)
    if not caller.is_teacher:
        _refuse(session, Refused(), caller, item, request=req.id, method="paper")
    media_type = scan_type(scan)
    if media_type is None:
        raise BadScan()
    if signed_by not in (AnsweredBy.SELF, AnsweredBy.GUARDIAN) or language not in LANGUAGES:
        raise BadRequest()
    digest = hashlib.sha256(scan).hexdigest()
    row = ConsentScan(
        sha256=digest,
        content_type=media_type,
        filename=filename[-255:],
        content=scan,
        uploaded_by=caller.audit_actor,
    )
    session.add(row)
    session.flush()
    return _answer(
        session,
        req,
        answer,
        req.text_hash(language),
        actor=f"staff:{caller.ledger_actor}",
        audit_actor=caller.audit_actor,
        answered_by=AnsweredBy.STAFF,
        method=Method.PAPER,
        details={"scan": row.id, "scan_sha256": digest, "signed_by": signed_by.value},
    )


def mark_unrecognisable(session: Session, req: ConsentRequest, caller: Caller) -> LedgerRecord:
    """The teacher confirms a person who did not consent was made unrecognisable (G3 gate)."""
    item: Item = session.get_one(Item, req.item_id)
    if not caller.is_teacher:
        _refuse(session, Refused(), caller, item, request=req.id, action="unrecognisable")
    _open(item)
    status = item_statuses(session, item).get(req.id)
    if status is not None and status.state not in (RequestState.REFUSED, RequestState.PENDING):
        raise CannotMarkUnrecognisable()
    entry = ledger.append(
        session,
        _entry(
            item,
            LedgerKind.UNRECOGNISABLE,
            req.subject,
            request_id=req.id,
            actor=f"staff:{caller.ledger_actor}",
            answered_by=AnsweredBy.STAFF,
            method=Method.TOOL,
        ),
    )
    record(
        session,
        "consent.made-unrecognisable",
        actor=caller.audit_actor,
        course_id=item.course_id,
        subject=item.subject,
        request=req.id,
        ledger_seq=entry.seq,
    )
    settle(session, item, caller.audit_actor)
    return entry


def confirm_own(
    session: Session, req: ConsentRequest, caller: Caller, ctx: Context
) -> LedgerRecord:
    """A student who turned 16 confirms the consent a parent or guardian gave for them."""
    item: Item = session.get_one(Item, req.item_id)
    if capacity(session, req, caller, ctx) is not AnsweredBy.SELF:
        _refuse(session, Refused(), caller, item, request=req.id)
    status = item_statuses(session, item).get(req.id)
    if (
        status is None
        or status.state is not RequestState.GIVEN
        or status.answered_by == AnsweredBy.SELF.value
        or status.confirmed is not None
    ):
        raise NothingToConfirm()
    return ledger.append(
        session,
        _entry(
            item,
            LedgerKind.CONFIRMED,
            req.subject,
            request_id=req.id,
            actor=caller.ledger_actor,
            answered_by=AnsweredBy.SELF,
            method=Method.LMS,
            text_hash=req.text_nl,
        ),
    )


# --- withdrawing ------------------------------------------------------------------------------


def _withdraw(
    session: Session,
    req: ConsentRequest,
    ctx: Context,
    *,
    actor: str,
    audit_actor: str,
    answered_by: AnsweredBy,
    method: Method,
) -> DeletionPlan:
    item: Item = session.get_one(Item, req.item_id)
    _open(item)
    status = item_statuses(session, item).get(req.id)
    if status is None or status.state is not RequestState.GIVEN:
        raise NothingToWithdraw()
    plan = withdrawal_plan(
        in_use_for_cohort=item.state is ItemState.READY and item.audience in _COHORT,
        today=ctx.today,
        school_year_end=ctx.institution.policy.school_year_end,
        grace_days=ctx.settings.withdrawal_grace_days,
        item_delete_on=item.delete_on,
    )
    plan_json = {
        "action": plan.action.value,
        "removed_from_view_on": None
        if plan.removed_from_view_on is None
        else plan.removed_from_view_on.isoformat(),
        "delete_on": plan.delete_on.isoformat(),
        "replace_for_next_year": plan.replace_for_next_year,
    }
    entry = ledger.append(
        session,
        _entry(
            item,
            LedgerKind.WITHDRAWN,
            req.subject,
            request_id=req.id,
            actor=actor,
            answered_by=answered_by,
            method=method,
            details={"plan": plan_json},
        ),
    )
    row = DeletionPlan(
        item_id=item.id,
        request_id=req.id,
        ledger_seq=entry.seq,
        action=plan.action,
        removed_from_view_on=plan.removed_from_view_on,
        delete_on=plan.delete_on,
        replace_for_next_year=plan.replace_for_next_year,
    )
    session.add(row)
    before = item.delete_on
    item.delete_on = plan.delete_on
    if plan.action is PlanAction.REMOVE_NOW:
        item.removed_at = utcnow()
    session.flush()
    record(
        session,
        "consent.withdrawn",
        actor=audit_actor,
        course_id=item.course_id,
        subject=item.subject,
        request=req.id,
        ledger_seq=entry.seq,
        plan=plan_json,
        delete_on_before=None if before is None else before.isoformat(),
    )
    settle(session, item, audit_actor)
    return row


def withdraw(session: Session, req: ConsentRequest, caller: Caller, ctx: Context) -> DeletionPlan:
    """Withdraw the consent of ``req`` (effective at once) and plan the item's deletion (G3.2)."""
    by = may_withdraw(session, req, caller, ctx)
    return _withdraw(
        session,
        req,
        ctx,
        actor=caller.ledger_actor,
        audit_actor=caller.audit_actor,
        answered_by=by,
        method=Method.LMS,
    )


def withdraw_on_request(
    session: Session,
    req: ConsentRequest,
    ctx: Context,
    *,
    actor: str,
    audit_actor: str,
    answered_by: AnsweredBy,
) -> DeletionPlan:
    """Withdraw the consent of ``req`` because an erasure request (GDPR art. 17) asks for it;
    the caller (``lti_tool.privacy.operations``) decided who may ask. Same plan as
    :func:`withdraw` (G3.2)."""
    return _withdraw(
        session,
        req,
        ctx,
        actor=actor,
        audit_actor=audit_actor,
        answered_by=answered_by,
        method=Method.TOOL,
    )


# --- signed links -----------------------------------------------------------------------------


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_link(
    session: Session,
    req: ConsentRequest,
    ctx: Context,
    *,
    answered_by: AnsweredBy,
    holder_name: str,
    created_by: str,
) -> str:
    """A new signed link for ``req`` (a guest answering, or a parent of a student under 16);
    returns the token, which is never stored."""
    course = session.get_one(Item, req.item_id).course
    if answered_by is AnsweredBy.SELF and req.person_id is not None:
        raise BadRequest(_("Students answer in the course; links are for guests and parents."))
    if answered_by is AnsweredBy.GUARDIAN and (
        req.person is None or not minor(req.person, course, ctx.today)
    ):
        raise StudentDecides()
    secret = secrets.token_urlsafe(32)
    link = ConsentLink(
        request_id=req.id,
        secret_hash=_secret_hash(secret),
        answered_by=answered_by,
        holder_name=holder_name.strip()[:200],
        expires_at=utcnow() + dt.timedelta(days=ctx.settings.consent_link_days),
        created_by=created_by,
    )
    session.add(link)
    session.flush()
    record(
        session,
        "consent.link-issued",
        actor=created_by,
        course_id=course.id,
        subject=f"item:{req.item_id}",
        request=req.id,
        link=link.id,
        answered_by=answered_by.value,
        expires_at=link.expires_at.isoformat(),
    )
    return f"{link.id}.{secret}"


def open_link(session: Session, token: str) -> ConsentLink:
    """The unused, unexpired link ``token`` names; refuses (audited) anything else."""
    link_id, _dot, secret = token.partition(".")
    link = (
        session.get(ConsentLink, int(link_id)) if link_id.isdigit() and len(link_id) < 12 else None
    )
    valid = (
        link is not None
        and secrets.compare_digest(link.secret_hash, _secret_hash(secret))
        and link.used_at is None
        and link.expires_at > utcnow()
    )
    if not valid:
        why = (
            "unknown"
            if link is None
            else "altered"
            if not secrets.compare_digest(link.secret_hash, _secret_hash(secret))
            else "used"
            if link.used_at is not None
            else "expired"
        )
        _refuse(
            session,
            LinkRefused(),
            Caller(registration_id=0, person=None, audit_actor=f"link:{link_id[:12]}"),
            None,
            why=why,
        )
    assert link is not None  # for the type checker: an absent link was refused above
    return link


def _use(session: Session, link: ConsentLink) -> None:
    """Use the link up, once: a second request racing this one finds it used (refused)."""
    used = session.execute(
        update(ConsentLink)
        .where(ConsentLink.id == link.id, ConsentLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        _refuse(
            session,
            LinkRefused(),
            Caller(registration_id=0, person=None, audit_actor=f"link:{link.id}"),
            None,
            why="used",
        )


def answer_by_link(
    session: Session, token: str, ctx: Context, action: str, answer: str = "", shown: str = ""
) -> str:
    """Answer or withdraw through a signed link; the link is used up and a new one returned
    (to change the answer later)."""
    link = open_link(session, token)
    req = link.request
    _use(session, link)
    actor = f"link:{link.id}"
    if action == "withdraw":
        _withdraw(
            session,
            req,
            ctx,
            actor=actor,
            audit_actor=actor,
            answered_by=link.answered_by,
            method=Method.LINK,
        )
    else:
        _answer(
            session,
            req,
            answer,
            shown,
            actor=actor,
            audit_actor=actor,
            answered_by=link.answered_by,
            method=Method.LINK,
        )
    return issue_link(
        session,
        req,
        ctx,
        answered_by=link.answered_by,
        holder_name=link.holder_name,
        created_by=actor,
    )


# --- reminders and objections -----------------------------------------------------------------


def remind(session: Session, item: Item, caller: Caller, ctx: Context) -> int:
    """Remind everyone who has not answered (shown on their next launch); at most once per
    ``reminder_interval_hours`` per item. Returns how many were reminded."""
    _open(item)
    found = item_statuses(session, item)
    last = max((s.reminded_at for s in found.values() if s.reminded_at), default=None)
    if last is not None and utcnow() - last < dt.timedelta(
        hours=ctx.settings.reminder_interval_hours
    ):
        raise TooSoon()
    pending = [
        req
        for req in session.scalars(select(ConsentRequest).where(ConsentRequest.item_id == item.id))
        if found.get(req.id) is None or found[req.id].state is RequestState.PENDING
    ]
    for req in pending:
        ledger.append(
            session,
            _entry(
                item,
                LedgerKind.REMINDED,
                req.subject,
                request_id=req.id,
                actor=caller.ledger_actor,
                answered_by=AnsweredBy.STAFF,
                method=Method.TOOL,
            ),
        )
    record(
        session,
        "consent.reminded",
        actor=caller.audit_actor,
        course_id=item.course_id,
        subject=item.subject,
        reminded=len(pending),
    )
    return len(pending)


def object_to(
    session: Session, item: Item, student: Person, caller: Caller, ctx: Context, *, objecting: bool
) -> LedgerRecord:
    """Register (or take back) an objection of ``student`` to ``item`` (art. 21: G1 and G2),
    by the student or by a parent or guardian of a student under 16."""
    if item.legal_basis not in OBJECTABLE:
        raise NotObjectable()
    _open(item)
    if caller.person is None:
        _refuse(session, Refused(), caller, item, action="object")
    if caller.person.id == student.id:
        by = AnsweredBy.SELF
    elif student.sub in caller.represents and minor(student, item.course, ctx.today):
        by = AnsweredBy.GUARDIAN
    else:
        _refuse(session, Refused(), caller, item, action="object", for_person=student.id)
    if student.id not in audience_of(session, item):
        _refuse(session, Refused(), caller, item, action="object", for_person=student.id)
    kind = LedgerKind.OBJECTED if objecting else LedgerKind.OBJECTION_WITHDRAWN
    entry = ledger.append(
        session,
        _entry(
            item,
            kind,
            f"person:{student.id}",
            actor=caller.ledger_actor,
            answered_by=by,
            method=Method.LMS,
        ),
    )
    record(
        session,
        f"consent.{kind.value}",
        actor=caller.audit_actor,
        course_id=item.course_id,
        subject=item.subject,
        person=student.id,
        ledger_seq=entry.seq,
    )
    return entry
