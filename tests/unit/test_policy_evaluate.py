import json
from datetime import date
from itertools import combinations, product
from pathlib import Path

import pytest
import yaml

from lti_tool.policy import (
    DEFAULT_PACK_PATH,
    Audience,
    Consenter,
    Decision,
    Facts,
    InstitutionSettings,
    LegalBasis,
    Made,
    Outcome,
    Purpose,
    Recognisable,
    RetentionKind,
    TeacherLocation,
    Visibility,
    default_pack,
    evaluate,
    load_pack,
    parse_pack,
)

PACKS = Path(__file__).parent / "packs"
TODAY = date(2025, 3, 10)
SETTINGS = InstitutionSettings()
T, S, G = Recognisable.TEACHER, Recognisable.STUDENTS, Recognisable.GUESTS
STUDENTS_AND_PARENTS = (Consenter.STUDENTS, Consenter.PARENTS_OF_UNDER_16)


def decide(
    made, recognisable, purpose, audience, location="school", today=TODAY, settings=SETTINGS
):
    facts = Facts(
        made=Made(made),
        recognisable=frozenset(recognisable),
        purpose=Purpose(purpose),
        audience=Audience(audience),
        today=today,
        teacher_location=TeacherLocation(location),
    )
    return evaluate(facts, default_pack(), settings)


def all_facts():
    """Every combination, enumerated here independently of the code under test."""
    groups = [frozenset(c) for n in (1, 2, 3) for c in combinations((T, S, G), n)]
    for made, group, purpose, audience, location in product(
        Made, groups, Purpose, Audience, TeacherLocation
    ):
        yield Facts(made, group, purpose, audience, TODAY, location)


def check_consistent(facts: Facts, decision: Decision) -> None:
    pack = default_pack()
    known = {rule.id for rule in pack.rules} | {
        c.id for rule in pack.rules for c in rule.conditions
    }
    cites = [reason.cite for reason in decision.reasons]
    assert decision.pack_version == "2020.10-1"
    assert decision.reasons
    assert set(cites) <= known | {"privacy-officer"}, "not-covered never happens in the default"
    people = facts.recognisable - {T}
    if decision.outcome is Outcome.REFUSED:
        assert decision.rule is None
        assert decision.legal_basis is None
        assert decision.retention is None
        assert decision.visibility is None
        assert decision.consent_from == ()
        assert decision.conditions == ()
        assert decision.reasons[-1].cite == "privacy-officer"
        assert decision.reasons[-1].text == pack.privacy_officer
        return
    assert decision.rule in {"G1", "G2", "G3", "G4"}
    assert "privacy-officer" not in cites
    assert decision.legal_basis is pack.rule(decision.rule).legal_basis
    assert decision.visibility is not None
    assert set(decision.conditions) <= known
    unconditional = [c.id for c in pack.rule(decision.rule).conditions if c.when is None]
    assert list(decision.conditions[: len(unconditional)]) == unconditional
    retention = decision.retention
    assert retention is not None
    assert retention.rule.startswith(decision.rule) or retention.rule.startswith("G3")
    if retention.kind is RetentionKind.UNTIL_GRADUATION:
        assert retention.delete_on is None
        assert retention.years_after_graduation == 2
        assert retention.review_on == date(2026, 3, 10)
    else:
        assert (retention.delete_on or retention.review_on) > TODAY
    assert (decision.outcome is Outcome.CONSENT_REQUIRED) == bool(decision.consent_from)
    assert (Consenter.STUDENTS in decision.consent_from) == (
        Consenter.PARENTS_OF_UNDER_16 in decision.consent_from
    )
    if G in facts.recognisable:
        assert Consenter.GUESTS in decision.consent_from
        assert decision.outcome is Outcome.CONSENT_REQUIRED
    assert ("G4.3" in decision.conditions) == (facts.teacher_location is TeacherLocation.PRIVATE)
    if facts.audience is Audience.PUBLIC and people:
        assert decision.outcome is Outcome.CONSENT_REQUIRED
    if facts.recognisable == {T}:
        assert (decision.rule, decision.outcome) == ("G4", Outcome.ALLOWED)
    if decision.rule == "G1":
        assert S in facts.recognisable
        assert facts.purpose is Purpose.ASSESSMENT
        assert facts.audience in {Audience.ASSESSED, Audience.CLASS, Audience.INTERVISION}
        assert retention.kind is RetentionKind.UNTIL_GRADUATION
    if decision.rule == "G2":
        assert S in facts.recognisable
        assert facts.made in {Made.STREAM, Made.STREAM_AND_RECORDING}
        assert facts.purpose is Purpose.REMOTE_LESSON
        assert facts.audience is Audience.CLASS
        assert decision.visibility is Visibility.CLASS_GROUP
        assert retention.delete_on == date(2025, 7, 31)
    if decision.rule == "G3":
        assert decision.outcome is Outcome.CONSENT_REQUIRED
        assert decision.legal_basis is LegalBasis.CONSENT
        assert decision.visibility is Visibility.CONSENTED_AUDIENCE
        assert retention.kind is RetentionKind.UNTIL_CONSENT_END
        assert retention.delete_on == date(2026, 7, 31)
        if S in facts.recognisable:
            assert decision.consent_from[:2] == STUDENTS_AND_PARENTS
    if decision.rule == "G4":
        assert S not in facts.recognisable
        assert T in facts.recognisable
        assert decision.visibility is Visibility.TEACHER_CHOSEN
    if S in facts.recognisable and decision.rule in {"G1", "G2"}:
        assert Consenter.STUDENTS not in decision.consent_from


def test_every_combination_gets_one_consistent_decision():
    facts_list = list(all_facts())
    assert len(facts_list) == 1260
    outcomes = {}
    for facts in facts_list:
        decision = evaluate(facts, default_pack(), SETTINGS)
        try:
            check_consistent(facts, decision)
        except AssertionError as error:
            raise AssertionError(f"{facts}: {decision}") from error
        assert json.loads(json.dumps(decision.to_json()))["outcome"] == decision.outcome.value
        key = (decision.rule, decision.outcome.value)
        outcomes[key] = outcomes.get(key, 0) + 1
    # Counted by hand: sets with students are S, TS, SG, TSG; teacher-only sets are T, TG.
    assert outcomes == {
        ("G1", "allowed"): 2 * 3 * 3 * 2,  # S, TS x made x assessed/class/intervision x location
        ("G1", "consent-required"): 2 * 3 * 3 * 2,  # SG, TSG: the guests consent
        ("G2", "allowed"): 2 * 2 * 2,  # S, TS x stream/stream+recording x location
        ("G2", "consent-required"): 2 * 2 * 2,
        ("G3", "consent-required"): 180 + 72 + 120 + 8 + 288,  # guests-only .. material
        ("G4", "allowed"): 3 * 5 * 6 * 2,  # T
        ("G4", "consent-required"): 3 * 5 * 6 * 2,  # TG: G4.4
        (None, "refused"): 4 * 3 * 6 * 2,  # students recognisable, exam-content
    }


def test_evaluate_is_pure():
    facts = Facts(Made.STREAM, frozenset({S}), Purpose.REMOTE_LESSON, Audience.CLASS, TODAY)
    first = evaluate(facts, default_pack(), SETTINGS)
    assert evaluate(facts, default_pack(), SETTINGS) == first


def test_g1_assessment_for_the_assessed_student():
    decision = decide("recording", {S}, "assessment", "assessed")
    assert decision.to_json() | {"reasons": None} == {
        "rule": "G1",
        "case": "assessment-assessed",
        "outcome": "allowed",
        "legal_basis": "legal-task",
        "consent_from": [],
        "conditions": ["G1.1", "G1.2", "G1.3"],
        "retention": {
            "kind": "until-graduation",
            "rule": "G1.3",
            "delete_on": None,
            "review_on": "2026-03-10",
            "years_after_graduation": 2,
            "text": default_pack().retention["graduation"].text.to_json(),
        },
        "visibility": "assessed-and-assessors",
        "pack_version": "2020.10-1",
        "reasons": None,
    }
    assert [reason.cite for reason in decision.reasons] == ["G1", "G1.1"]


@pytest.mark.parametrize(
    ("audience", "visibility"),
    [
        ("class", Visibility.CLASS_GROUP),
        ("intervision", Visibility.INTERVISION_GROUP),
    ],
)
def test_g1_within_class_or_intervision(audience, visibility):
    decision = decide("stream+recording", {T, S}, "assessment", audience)
    assert (decision.rule, decision.outcome, decision.visibility) == ("G1", "allowed", visibility)


def test_g1_with_a_guest_asks_the_guest_only():
    decision = decide("recording", {S, G}, "assessment", "class")
    assert decision.rule == "G1"
    assert decision.outcome is Outcome.CONSENT_REQUIRED
    assert decision.consent_from == (Consenter.GUESTS,)
    assert decision.conditions == ("G1.1", "G1.2", "G1.3", "G4.4")


def test_g2_live_lesson_to_the_class_is_deleted_at_school_year_end():
    decision = decide("stream+recording", {T, S}, "remote-lesson", "class")
    assert decision.rule == "G2"
    assert decision.outcome is Outcome.ALLOWED
    assert decision.legal_basis is LegalBasis.LEGITIMATE_INTEREST
    assert decision.conditions == ("G2.1", "G2.2", "G2.3", "G2.4", "G2.5")
    assert decision.retention.kind is RetentionKind.DELETE_ON
    assert (decision.retention.delete_on, decision.retention.review_on) == (date(2025, 7, 31), None)
    assert decision.retention.rule == "G2.5"
    assert decision.visibility is Visibility.CLASS_GROUP


@pytest.mark.parametrize(
    ("today", "month_day", "delete_on"),
    [
        (date(2025, 7, 31), (7, 31), date(2025, 7, 31)),
        (date(2025, 8, 1), (7, 31), date(2026, 7, 31)),
        (date(2025, 8, 1), (8, 31), date(2025, 8, 31)),
    ],
)
def test_g2_deletion_follows_the_institution_school_year(today, month_day, delete_on):
    settings = InstitutionSettings(school_year_end=month_day)
    decision = decide("stream", {S}, "remote-lesson", "class", today=today, settings=settings)
    assert decision.retention.delete_on == delete_on


def test_g2_from_home_adds_g4_3():
    decision = decide("stream", {T, S}, "remote-lesson", "class", location="private")
    assert decision.rule == "G2"
    assert decision.conditions[-1] == "G4.3"
    assert decision.reasons[-1].cite == "G4.3"


def test_g3_students_for_a_wider_audience():
    decision = decide("recording", {S}, "wider-audience", "public")
    assert decision.rule == "G3"
    assert decision.case == "material-with-students"
    assert decision.outcome is Outcome.CONSENT_REQUIRED
    assert decision.legal_basis is LegalBasis.CONSENT
    assert decision.consent_from == STUDENTS_AND_PARENTS
    assert decision.conditions == ("G3.1", "G3.2", "G3.3")
    assert decision.retention.kind is RetentionKind.UNTIL_CONSENT_END
    assert decision.retention.delete_on == date(2026, 7, 31)
    assert decision.retention.rule == "G3.2"
    assert decision.visibility is Visibility.CONSENTED_AUDIENCE


@pytest.mark.parametrize(
    ("made", "purpose", "audience", "case"),
    [
        ("stream", "remote-lesson", "cohort", "lesson-beyond-class"),  # G2.3: class group only
        ("stream", "remote-lesson", "intervision", "lesson-beyond-class"),
        ("stream+recording", "remote-lesson", "assessed", "lesson-beyond-class"),
        ("recording", "remote-lesson", "class", "recorded-lesson"),  # G2 covers live only
        ("recording", "assessment", "cohort", "assessment-beyond"),  # beyond G1.1
        ("recording", "assessment", "public", "assessment-beyond"),
        ("recording", "instruction", "class", "material-with-students"),
    ],
)
def test_g3_when_g1_and_g2_do_not_reach(made, purpose, audience, case):
    decision = decide(made, {T, S, G}, purpose, audience)
    assert (decision.rule, decision.case) == ("G3", case)
    assert decision.consent_from == (*STUDENTS_AND_PARENTS, Consenter.GUESTS)


def test_g3_for_guests_alone():
    decision = decide("stream", {G}, "remote-lesson", "class")
    assert (decision.rule, decision.case) == ("G3", "guests-only")
    assert decision.consent_from == (Consenter.GUESTS,)


def test_g4_exam_content_is_deleted_after_two_years():
    decision = decide("recording", {T}, "exam-content", "public", today=date(2024, 2, 29))
    assert decision.rule == "G4"
    assert decision.outcome is Outcome.ALLOWED
    assert decision.legal_basis is LegalBasis.TEACHER_CONSENT
    assert decision.consent_from == ()
    assert decision.conditions == ("G4.1", "G4.2")
    assert decision.retention.kind is RetentionKind.DELETE_ON
    assert decision.retention.delete_on == date(2026, 2, 28)
    assert decision.retention.rule == "G4.2"
    assert decision.visibility is Visibility.TEACHER_CHOSEN


def test_g4_instruction_is_reviewed_yearly():
    decision = decide("stream+recording", {T}, "instruction", "institution")
    assert decision.retention.kind is RetentionKind.REVIEW_ON
    assert (decision.retention.delete_on, decision.retention.review_on) == (None, date(2026, 3, 10))


def test_g4_from_home_states_it_is_never_mandatory():
    decision = decide("stream", {T}, "remote-lesson", "class", location="private")
    assert (decision.rule, decision.outcome) == ("G4", Outcome.ALLOWED)
    assert decision.conditions == ("G4.1", "G4.2", "G4.3")


def test_g4_4_guests_the_teacher_involves_consent():
    decision = decide("recording", {T, G}, "instruction", "public")
    assert decision.rule == "G4"
    assert decision.outcome is Outcome.CONSENT_REQUIRED
    assert decision.legal_basis is LegalBasis.TEACHER_CONSENT
    assert decision.consent_from == (Consenter.GUESTS,)
    assert decision.conditions == ("G4.1", "G4.2", "G4.4")
    assert [reason.cite for reason in decision.reasons] == ["G4", "G4.2", "G4.4"]


def test_exam_content_with_students_is_refused_with_the_route_to_the_privacy_officer():
    decision = decide("recording", {S}, "exam-content", "class")
    assert decision.to_json()["rule"] is None
    assert decision.outcome is Outcome.REFUSED
    assert decision.case == "exam-content-with-students"
    assert [reason.cite for reason in decision.reasons] == ["G4.2", "G1", "privacy-officer"]
    assert decision.reasons[-1].text.en == (
        "Contact your institution's privacy officer, who can assess whether and how this can "
        "be done."
    )


def test_facts_a_pack_does_not_cover_are_refused():
    pack = load_pack(PACKS / "minimal.yaml")
    covered = Facts(Made.RECORDING, frozenset({T}), Purpose.INSTRUCTION, Audience.PUBLIC, TODAY)
    assert evaluate(covered, pack, SETTINGS).rule == "R1"
    assert evaluate(covered, pack, SETTINGS).retention.delete_on == date(2026, 3, 10)
    uncovered = Facts(Made.STREAM, frozenset({T}), Purpose.INSTRUCTION, Audience.PUBLIC, TODAY)
    decision = evaluate(uncovered, pack, SETTINGS)
    assert decision == Decision(
        rule=None,
        case=None,
        outcome=Outcome.REFUSED,
        legal_basis=None,
        consent_from=(),
        conditions=(),
        retention=None,
        visibility=None,
        pack_version="test-1",
        reasons=decision.reasons,
    )
    assert [(r.cite, r.text.en) for r in decision.reasons] == [
        ("not-covered", "Not covered."),
        ("privacy-officer", "Ask the privacy officer."),
    ]


def test_the_legal_basis_of_g2_is_data():
    document = yaml.safe_load(DEFAULT_PACK_PATH.read_text(encoding="utf-8"))
    document["rules"][1]["legal_basis"] = "legal-task"
    pack = parse_pack(yaml.safe_dump(document, allow_unicode=True), "legal-task.yaml")
    facts = Facts(Made.STREAM, frozenset({S}), Purpose.REMOTE_LESSON, Audience.CLASS, TODAY)
    assert evaluate(facts, pack, SETTINGS).legal_basis is LegalBasis.LEGAL_TASK
