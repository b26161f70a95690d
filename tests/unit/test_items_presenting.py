"""Decisions in the reader's language, from the pack they were made under."""

from __future__ import annotations

from datetime import date

from lti_tool.items.presenting import describe, has_condition
from lti_tool.policy import (
    Audience,
    Facts,
    InstitutionSettings,
    Made,
    Purpose,
    Recognisable,
    default_pack,
    evaluate,
)

TODAY = date(2027, 3, 15)


def _decision(purpose: Purpose, audience: Audience) -> dict[str, object]:
    facts = Facts(Made.RECORDING, frozenset({Recognisable.STUDENTS}), purpose, audience, TODAY)
    return evaluate(facts, default_pack(), InstitutionSettings()).to_json()


def test_an_assessment_in_dutch() -> None:
    view = describe(_decision(Purpose.ASSESSMENT, Audience.CLASS), default_pack(), "nl")
    assert (view.rule, view.outcome, view.refused) == ("G1", "allowed", False)
    assert view.title == "Opnames om studenten te beoordelen"
    assert view.legal_basis.startswith("Wettelijke taak")
    assert [c.cite for c in view.conditions] == ["G1.1", "G1.2", "G1.3"]
    assert view.consent_from == ()
    assert view.retention is not None
    assert (view.retention.kind, view.retention.delete_on) == ("until-graduation", None)
    assert view.retention.review_on == date(2028, 3, 15)
    assert view.retention.years_after_graduation == 2


def test_a_consent_decision_in_english() -> None:
    view = describe(_decision(Purpose.WIDER_AUDIENCE, Audience.PUBLIC), default_pack(), "en")
    assert view.rule == "G3"
    assert view.consent_from == (
        "Students aged 16 or over",
        "Parents or guardians of students under 16",
    )
    assert view.retention is not None and view.retention.delete_on == date(2028, 7, 31)


def test_a_refusal_keeps_its_reasons_and_the_privacy_officer() -> None:
    view = describe(_decision(Purpose.EXAM_CONTENT, Audience.CLASS), default_pack(), "en")
    assert view.refused and view.rule is None and view.retention is None
    assert view.title == "" and view.legal_basis == ""
    assert [r.cite for r in view.reasons] == ["G4.2", "G1", "privacy-officer"]


def test_has_condition() -> None:
    assert has_condition(default_pack(), "G4.3")
    assert not has_condition(default_pack(), "G9.9")
    assert not has_condition(default_pack(), "G4")  # a rule, not a condition
