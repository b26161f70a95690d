import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lti_tool.policy import DEFAULT_PACK_PATH
from lti_tool.policy.cli import guideline

PACKS = Path(__file__).parent / "packs"
G2_ARGS = [
    "decide",
    "--made",
    "stream+recording",
    "--recognisable",
    "teacher",
    "--recognisable",
    "students",
    "--purpose",
    "remote-lesson",
    "--audience",
    "class",
    "--date",
    "2025-03-10",
]


def run(*args):
    return CliRunner().invoke(guideline, list(args))


def test_decide_json_prints_one_decision_object():
    result = run(*G2_ARGS, "--json")
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert {key: decision[key] for key in decision if key not in {"reasons", "retention"}} == {
        "rule": "G2",
        "case": "live-lesson",
        "outcome": "allowed",
        "legal_basis": "legitimate-interest",
        "consent_from": [],
        "conditions": ["G2.1", "G2.2", "G2.3", "G2.4", "G2.5"],
        "visibility": "class-group",
        "pack_version": "2020.10-1",
    }
    assert decision["retention"]["delete_on"] == "2025-07-31"
    assert decision["retention"]["review_on"] is None
    assert decision["retention"]["rule"] == "G2.5"
    assert [reason["cite"] for reason in decision["reasons"]] == ["G2", "G2.3"]
    assert decision["reasons"][0]["text"]["en"] == (
        "A current lesson is streamed live so that education goes on."
    )


def test_decide_uses_the_school_year_end_and_location_given():
    result = run(*G2_ARGS, "--school-year-end", "08-31", "--teacher-location", "private", "--json")
    decision = json.loads(result.output)
    assert decision["retention"]["delete_on"] == "2025-08-31"
    assert decision["conditions"][-1] == "G4.3"


def test_decide_refusal_exits_0_with_rule_null():
    result = run(
        "decide",
        "--made",
        "recording",
        "--recognisable",
        "students",
        "--purpose",
        "exam-content",
        "--audience",
        "class",
        "--json",
    )
    assert result.exit_code == 0
    decision = json.loads(result.output)
    assert (decision["rule"], decision["outcome"]) == (None, "refused")
    assert decision["reasons"][-1]["cite"] == "privacy-officer"
    assert decision["retention"] is None


def test_decide_with_a_pack_that_does_not_cover_the_facts():
    result = run(
        "decide",
        "--made",
        "stream",
        "--recognisable",
        "teacher",
        "--purpose",
        "instruction",
        "--audience",
        "public",
        "--pack",
        str(PACKS / "minimal.yaml"),
        "--json",
    )
    assert result.exit_code == 0
    decision = json.loads(result.output)
    assert (decision["rule"], decision["pack_version"]) == (None, "test-1")
    assert [r["cite"] for r in decision["reasons"]] == ["not-covered", "privacy-officer"]


def test_decide_readable_summary_in_dutch():
    result = run(*G2_ARGS, "--locale", "nl")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Rule:         G2  Een les live streamen voor onderwijs op afstand"
    assert "Outcome:      allowed" in lines
    assert "Retention:    delete-on (G2.5) delete on 2025-07-31" in lines
    assert lines[-1] == "Pack:         Richtlijn opnames onderwijs 2020.10-1 (case live-lesson)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ["--purpose", "lecture"],
            "Invalid value for '--purpose': 'lecture' is not one of 'assessment', "
            "'remote-lesson', 'wider-audience', 'instruction', 'exam-content'.",
        ),
        (
            ["--recognisable", "pupils"],
            "Invalid value for '--recognisable': 'pupils' is not one of 'teacher', "
            "'students', 'guests'.",
        ),
        (
            ["--date", "2025-02-30"],
            "Invalid value for '--date': '2025-02-30' does not match the format '%Y-%m-%d'.",
        ),
        (
            ["--school-year-end", "02-30"],
            "Invalid value for '--school-year-end': '02-30' is not a month and day in the form "
            "MM-DD, e.g. 07-31",
        ),
    ],
)
def test_decide_bad_arguments_exit_2_naming_the_allowed_values(change, message):
    result = run(*G2_ARGS, *change, "--json")
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_decide_without_required_facts_exits_2():
    result = run("decide", "--made", "stream", "--purpose", "assessment", "--audience", "class")
    assert result.exit_code == 2
    assert "Missing option '--recognisable'" in result.output


def test_decide_with_a_broken_pack_exits_1_listing_problems():
    result = run(*G2_ARGS, "--pack", str(PACKS / "broken-types.yaml"))
    assert result.exit_code == 1
    assert f"{PACKS / 'broken-types.yaml'}: version: must be a non-empty string" in result.output


def test_validate_ok():
    result = run("validate", str(DEFAULT_PACK_PATH))
    assert result.exit_code == 0
    assert result.output == "OK Richtlijn opnames onderwijs 2020.10-1\n"


def test_validate_lists_every_problem():
    path = PACKS / "broken-types.yaml"
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}: version: must be a non-empty string, not a number",
        f"{path}: legal_bases.teacher-consent.en: missing",
        f"{path}: retention.one-year.kind: 'forever' is not one of: school-year-end, "
        "years-after-creation, until-graduation, yearly-review, consent-period",
        f"{path}: decisions[0].when.made: must be a non-empty list, not a string",
        "4 problem(s) found",
    ]


def test_validate_a_missing_file_is_a_bad_argument():
    result = run("validate", str(PACKS / "nope.yaml"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_show_prints_rules_conditions_bases_and_retention():
    result = run("show")
    assert result.exit_code == 0
    output = result.output
    for rule_id in ("G1", "G2", "G3", "G4"):
        assert f"\n{rule_id}  " in output
    assert "    G2.2  The camera shows the lesson as it happens" in output
    assert "    [legitimate-interest] Legitimate interest of the institution" in output
    assert "    graduation (G1.3, until-graduation, 2 year(s))" in output
    assert "    parents-of-under-16  Parents or guardians of students under 16" in output
    assert "G1  Opnames om studenten te beoordelen" in run("show", "--locale", "nl").output
