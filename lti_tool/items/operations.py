"""Creating, changing and cancelling items (flush, never commit; every change audited).

Every write decides again from the facts with the institution's active pack: a decision is
never taken from the client.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.access.audience import audience_of, members
from lti_tool.access.models import Course, Person
from lti_tool.audit.operations import record
from lti_tool.db import utcnow
from lti_tool.deletion.dates import recompute_graduation
from lti_tool.errors import BadRequest, Conflict, Forbidden, _
from lti_tool.institution.operations import pack_row
from lti_tool.institution.queries import Institution
from lti_tool.items.forms import Setup
from lti_tool.items.models import Item, ItemAudience, ItemState
from lti_tool.items.widening import widens
from lti_tool.policy import Decision, Outcome, Recognisable, RetentionKind, evaluate


class SetupRefused(Forbidden):
    """The pack refuses these facts; ``decision`` says why."""

    reason = _("The guideline does not allow this setup. See why below.")

    def __init__(self, decision: Decision) -> None:
        super().__init__()
        self.decision = decision


class NotConfirmed(BadRequest):
    """Conditions of the decision were not all confirmed."""

    reason = _("Confirm every condition before you continue.")

    def __init__(self, decision: Decision, missing: tuple[str, ...]) -> None:
        super().__init__(detail=", ".join(missing))
        self.decision = decision
        self.missing = missing


class NeedsNewConsent(Conflict):
    """G3.3: a consent item may not reach a new purpose or a wider audience."""

    reason = _(
        "Consent was asked for one purpose and audience. A different purpose or a wider "
        "audience needs new consent, so this change cannot be saved. Narrow it, or set up a "
        "new recording or stream for the new use."
    )


class ItemCancelled(Conflict):
    reason = _("This recording or stream is cancelled.")


class ItemDeleted(ItemCancelled):
    """Deleted on its date by the retention sweep: it cannot be changed or come back."""

    reason = _("This recording or stream has been deleted.")


def check_changeable(item: Item) -> None:
    """Raise unless ``item`` can still be changed or cancelled."""
    if item.state is ItemState.DELETED:
        raise ItemDeleted()
    if item.state is ItemState.CANCELLED:
        raise ItemCancelled()


def _state_for(decision: Decision) -> ItemState:
    if decision.outcome is Outcome.CONSENT_REQUIRED:
        return ItemState.AWAITING_CONSENT
    return ItemState.READY


def decide(setup: Setup, institution: Institution) -> Decision:
    """Decide ``setup``; raise ``SetupRefused`` or ``NotConfirmed`` when it cannot be stored."""
    decision = evaluate(setup.facts, institution.pack, institution.policy)
    if decision.outcome is Outcome.REFUSED:
        raise SetupRefused(decision)
    missing = tuple(c for c in decision.conditions if c not in setup.confirmed)
    if missing:
        raise NotConfirmed(decision, missing)
    return decision


def _apply(
    session: Session,
    item: Item,
    setup: Setup,
    decision: Decision,
    institution: Institution,
    teacher: Person,
) -> None:
    retention = decision.retention
    assert retention is not None and decision.legal_basis and decision.visibility
    assert decision.rule is not None
    facts = setup.facts
    item.title = setup.title
    item.state = _state_for(decision)
    item.made = facts.made
    item.recognisable = [r.value for r in Recognisable if r in facts.recognisable]
    item.purpose = facts.purpose
    item.audience = facts.audience
    item.teacher_location = facts.teacher_location
    item.set_up_on = facts.today
    item.rule = decision.rule
    item.decision_case = decision.case
    item.outcome = decision.outcome
    item.legal_basis = decision.legal_basis
    item.visibility = decision.visibility
    item.consent_from = [c.value for c in decision.consent_from]
    item.conditions = list(decision.conditions)
    item.retention_kind = retention.kind
    item.retention_rule = retention.rule
    item.delete_on = retention.delete_on
    item.review_on = retention.review_on
    item.decision = decision.to_json()
    item.pack_id = pack_row(session, institution.active).id
    item.confirmed = list(decision.conditions)
    item.confirmed_at = utcnow()
    item.confirmed_by_id = teacher.id
    item.audience_scope = setup.scope
    wanted = {("group", g) for g in setup.group_ids} | {("person", p) for p in setup.person_ids}
    current = {
        ("group", e.group_id) if e.group_id is not None else ("person", e.person_id): e
        for e in item.audience_entries
    }
    for key, entry in current.items():
        if key not in wanted:
            item.audience_entries.remove(entry)
    for kind, ref in sorted(wanted - current.keys(), key=str):
        item.audience_entries.append(
            ItemAudience(
                group_id=ref if kind == "group" else None,
                person_id=ref if kind == "person" else None,
            )
        )


def _summary(item: Item) -> dict[str, Any]:
    return {
        "title": item.title,
        "state": item.state.value,
        "facts": {
            "made": item.made.value,
            "recognisable": item.recognisable,
            "purpose": item.purpose.value,
            "audience": item.audience.value,
            "teacher_location": item.teacher_location.value,
            "date": item.set_up_on.isoformat(),
        },
        "rule": item.rule,
        "outcome": item.outcome.value,
        "legal_basis": item.legal_basis.value,
        "conditions_confirmed": item.confirmed,
        "consent_from": item.consent_from,
        "audience_scope": item.audience_scope.value,
        "audience_groups": sorted(e.group_id for e in item.audience_entries if e.group_id),
        "audience_people": sorted(e.person_id for e in item.audience_entries if e.person_id),
        "delete_on": item.delete_on.isoformat() if item.delete_on else None,
        "review_on": item.review_on.isoformat() if item.review_on else None,
    }


def create_item(
    session: Session,
    course: Course,
    teacher: Person,
    setup: Setup,
    institution: Institution,
    *,
    actor: str,
) -> Item:
    """Decide ``setup`` and store it as an item of ``course``, audited."""
    decision = decide(setup, institution)
    item = Item(course_id=course.id, creator_id=teacher.id)
    _apply(session, item, setup, decision, institution, teacher)
    session.add(item)
    session.flush()
    record(
        session,
        "item.created",
        actor=actor,
        registration_id=course.registration_id,
        course_id=course.id,
        subject=item.subject,
        pack_version=decision.pack_version,
        **_summary(item),
        decision=item.decision,
    )
    _graduation_known(session, item, actor)
    return item


def _graduation_known(session: Session, item: Item, actor: str) -> None:
    """G1.3: material of students whose graduation dates are all known gets its date now."""
    if item.retention_kind is RetentionKind.UNTIL_GRADUATION:
        recompute_graduation(session, item, actor=actor)
        session.flush()


def update_item(
    session: Session,
    item: Item,
    teacher: Person,
    setup: Setup,
    institution: Institution,
    *,
    actor: str,
) -> Item:
    """Decide the changed ``setup`` again (on the item's own date) and store it, audited.

    Retention keeps counting from the day the item was set up, so an edit never extends it.
    An item that asked consent may not get another purpose or a wider audience (G3.3).
    """
    check_changeable(item)
    setup = replace(setup, facts=replace(setup.facts, today=item.set_up_on))
    decision = decide(setup, institution)
    if item.outcome is Outcome.CONSENT_REQUIRED and widens(
        item,
        setup,
        before=audience_of(session, item),
        after=members(session, item.course_id, setup.scope, setup.group_ids, setup.person_ids),
    ):
        raise NeedsNewConsent()
    before = _summary(item)
    kind, delete_on, review_on = item.retention_kind, item.delete_on, item.review_on
    _apply(session, item, setup, decision, institution, teacher)
    if item.retention_kind is kind:  # an edit keeps dates that changed since the setup
        if delete_on is not None and item.delete_on is not None:
            item.delete_on = min(delete_on, item.delete_on)  # e.g. lowered by a withdrawal
        if review_on is not None and item.review_on is not None:
            item.review_on = max(review_on, item.review_on)  # e.g. kept another year (G4.2)
    session.flush()
    record(
        session,
        "item.updated",
        actor=actor,
        course_id=item.course_id,
        subject=item.subject,
        pack_version=decision.pack_version,
        before=before,
        after=_summary(item),
        decision=item.decision,
    )
    _graduation_known(session, item, actor)
    return item


def cancel_item(session: Session, item: Item, *, actor: str) -> None:
    """Call the item off, audited."""
    check_changeable(item)
    previous = item.state
    item.state = ItemState.CANCELLED
    session.flush()
    record(
        session,
        "item.cancelled",
        actor=actor,
        course_id=item.course_id,
        subject=item.subject,
        pack_version=item.decision.get("pack_version"),
        title=item.title,
        previous_state=previous.value,
    )
