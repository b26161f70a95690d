from datetime import date

import pytest

from lti_tool.policy import (
    Audience,
    Facts,
    FactsError,
    InstitutionSettings,
    Made,
    Purpose,
    Recognisable,
    TeacherLocation,
)
from lti_tool.policy.facts import every_combination

TODAY = date(2025, 3, 10)


def test_enum_values_are_the_published_ones():
    assert [m.value for m in Made] == ["stream", "recording", "stream+recording"]
    assert [r.value for r in Recognisable] == ["teacher", "students", "guests"]
    assert [p.value for p in Purpose] == [
        "assessment",
        "remote-lesson",
        "wider-audience",
        "instruction",
        "exam-content",
    ]
    assert [a.value for a in Audience] == [
        "assessed",
        "class",
        "intervision",
        "cohort",
        "institution",
        "public",
    ]
    assert [t.value for t in TeacherLocation] == ["school", "private"]


def test_parse_builds_facts_from_strings():
    facts = Facts.parse(
        {
            "made": "stream+recording",
            "recognisable": ["teacher", "students", "students"],
            "purpose": "remote-lesson",
            "audience": "class",
            "csrf_token": "ignored",
        },
        TODAY,
    )
    assert facts == Facts(
        made=Made.STREAM_AND_RECORDING,
        recognisable=frozenset({Recognisable.TEACHER, Recognisable.STUDENTS}),
        purpose=Purpose.REMOTE_LESSON,
        audience=Audience.CLASS,
        today=TODAY,
        teacher_location=TeacherLocation.SCHOOL,
    )


def test_parse_accepts_a_single_recognisable_and_a_location():
    facts = Facts.parse(
        {
            "made": "recording",
            "recognisable": "teacher",
            "purpose": "instruction",
            "audience": "public",
            "teacher_location": "private",
        },
        TODAY,
    )
    assert facts.recognisable == frozenset({Recognisable.TEACHER})
    assert facts.teacher_location is TeacherLocation.PRIVATE


VALID = {
    "made": "stream",
    "recognisable": ["students"],
    "purpose": "assessment",
    "audience": "class",
}


@pytest.mark.parametrize(
    ("change", "field", "value", "message"),
    [
        (
            {"purpose": "lecture"},
            "purpose",
            "lecture",
            "purpose: 'lecture' is not one of: assessment, remote-lesson, wider-audience, "
            "instruction, exam-content",
        ),
        (
            {"made": None},
            "made",
            None,
            "made: missing; choose from: stream, recording, stream+recording",
        ),
        (
            {"audience": ""},
            "audience",
            None,
            "audience: missing; choose from: assessed, class, "
            "intervision, cohort, institution, public",
        ),
        (
            {"recognisable": ["teacher", "pupils"]},
            "recognisable",
            "pupils",
            "recognisable: 'pupils' is not one of: teacher, students, guests",
        ),
        (
            {"recognisable": []},
            "recognisable",
            None,
            "recognisable: missing; choose from: teacher, students, guests",
        ),
        (
            {"teacher_location": "home"},
            "teacher_location",
            "home",
            "teacher_location: 'home' is not one of: school, private",
        ),
    ],
)
def test_parse_names_the_bad_value_and_the_allowed_ones(change, field, value, message):
    with pytest.raises(FactsError) as caught:
        Facts.parse({**VALID, **change}, TODAY)
    assert caught.value.field == field
    assert caught.value.value == value
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_facts_need_someone_recognisable():
    with pytest.raises(FactsError, match="recognisable: missing"):
        Facts(Made.STREAM, frozenset(), Purpose.ASSESSMENT, Audience.CLASS, TODAY)


def test_every_combination_is_complete_and_distinct():
    combinations = list(every_combination(TODAY))
    assert len(combinations) == 3 * 7 * 5 * 6 * 2
    assert len(set(combinations)) == len(combinations)


def test_settings_default_to_31_july_and_reject_impossible_days():
    assert InstitutionSettings().school_year_end == (7, 31)
    assert InstitutionSettings(school_year_end=(2, 29)).school_year_end == (2, 29)
    with pytest.raises(ValueError, match="school_year_end: 02-30 is not a valid month and day"):
        InstitutionSettings(school_year_end=(2, 30))
    with pytest.raises(ValueError, match="13-01"):
        InstitutionSettings(school_year_end=(13, 1))
