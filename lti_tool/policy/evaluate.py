"""The pure decision function: facts and a pack in, a decision with its reasons out."""

from __future__ import annotations

from datetime import date
from typing import assert_never

from lti_tool.policy.decision import (
    Consenter,
    Decision,
    Outcome,
    Reason,
    Retention,
    RetentionKind,
)
from lti_tool.policy.facts import Facts, InstitutionSettings
from lti_tool.policy.pack import Condition, Pack, RetentionMethod, RetentionRule, Rule, Ruling
from lti_tool.retention.dates import school_year_end_on_or_after, yearly_review, years_after


def evaluate(facts: Facts, pack: Pack, settings: InstitutionSettings) -> Decision:
    """Decide which rule of ``pack`` applies to ``facts`` and what it requires.

    No I/O and no clock: dates are computed from ``facts.today``. Facts no case of the pack
    covers are refused, with the pack's route to the privacy officer.
    """
    case = next((case for case in pack.cases if case.when.matches(facts)), None)
    if case is None:
        return _refused(pack, None, (Reason("not-covered", pack.not_covered),))
    ruling = case.ruling
    if ruling is None:
        return _refused(pack, case.id, case.reasons)
    conditions = _conditions(ruling.rule, pack, facts)
    consent_from = _consent_from(ruling, conditions, pack, facts)
    return Decision(
        rule=ruling.rule.id,
        case=case.id,
        outcome=Outcome.CONSENT_REQUIRED if consent_from else Outcome.ALLOWED,
        legal_basis=ruling.rule.legal_basis,
        consent_from=consent_from,
        conditions=tuple(condition.id for condition in conditions),
        retention=_retention(ruling.retention, facts.today, settings),
        visibility=ruling.visibility,
        pack_version=pack.version,
        reasons=case.reasons
        + tuple(Reason(c.id, c.text) for c in conditions if c.when is not None),
    )


def _refused(pack: Pack, case_id: str | None, reasons: tuple[Reason, ...]) -> Decision:
    return Decision(
        rule=None,
        case=case_id,
        outcome=Outcome.REFUSED,
        legal_basis=None,
        consent_from=(),
        conditions=(),
        retention=None,
        visibility=None,
        pack_version=pack.version,
        reasons=(*reasons, Reason("privacy-officer", pack.privacy_officer)),
    )


def _conditions(rule: Rule, pack: Pack, facts: Facts) -> tuple[Condition, ...]:
    shared = (item.condition for item in pack.shared_conditions if rule.id in item.rules)
    return tuple(c for c in (*rule.conditions, *shared) if c.applies(facts))


def _consent_from(
    ruling: Ruling, conditions: tuple[Condition, ...], pack: Pack, facts: Facts
) -> tuple[Consenter, ...]:
    groups = [*ruling.consent_of, *(group for c in conditions for group in c.consent_of)]
    asked = [
        consenter
        for group in groups
        if group in facts.recognisable
        for consenter in pack.consent_for[group]
    ]
    return tuple(dict.fromkeys(asked))


def _retention(rule: RetentionRule, today: date, settings: InstitutionSettings) -> Retention:
    years = rule.years or 0
    match rule.method:
        case RetentionMethod.SCHOOL_YEAR_END:
            end = school_year_end_on_or_after(today, settings.school_year_end)
            return Retention(RetentionKind.DELETE_ON, rule.cite, rule.text, delete_on=end)
        case RetentionMethod.YEARS_AFTER_CREATION:
            end = years_after(today, years)
            return Retention(RetentionKind.DELETE_ON, rule.cite, rule.text, delete_on=end)
        case RetentionMethod.YEARLY_REVIEW:
            review = yearly_review(today)
            return Retention(RetentionKind.REVIEW_ON, rule.cite, rule.text, review_on=review)
        case RetentionMethod.UNTIL_GRADUATION:
            return Retention(
                RetentionKind.UNTIL_GRADUATION,
                rule.cite,
                rule.text,
                review_on=yearly_review(today),
                years_after_graduation=years,
            )
        case RetentionMethod.CONSENT_PERIOD:
            end = years_after(school_year_end_on_or_after(today, settings.school_year_end), years)
            return Retention(RetentionKind.UNTIL_CONSENT_END, rule.cite, rule.text, delete_on=end)
        case _:
            assert_never(rule.method)
