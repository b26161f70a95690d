"""Reading the setup wizard's answers: every problem named, nothing outside the course."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from lti_tool.items.forms import (
    LABELS,
    QUESTIONS,
    Answers,
    AudienceOptions,
    Option,
    read_facts,
    read_setup,
)
from lti_tool.items.models import AudienceScope
from lti_tool.policy import Audience, Made, Purpose, Recognisable

TODAY = date(2027, 3, 15)
OPTIONS = AudienceOptions(
    sections=(Option(1, "sec-A"), Option(3, "sec-B")),
    groups=(Option(2, "grp-1"),),
    students=(Option(10, "Anna"), Option(11, "Bram")),
)
GOOD = {
    "title": " Lesson 3 ",
    "made": "stream",
    "recognisable": ["teacher", "students", "students"],
    "purpose": "remote-lesson",
    "audience": "class",
    "scope": "sections",
    "sections": ["1", "3"],
    "groups": ["2"],  # not the chosen scope: ignored
    "confirm": ["G2.1", "G2.2"],
}


def _answers(**change: object) -> Answers:
    values = {**GOOD, **change}
    form = MultiDict(
        [(k, v) for k, vs in values.items() for v in (vs if isinstance(vs, list) else [vs])]
    )
    return Answers.from_form(form)


def test_a_complete_setup_is_read() -> None:
    setup, errors = read_setup(_answers(), OPTIONS, TODAY)
    assert errors == []
    assert setup is not None
    assert setup.title == "Lesson 3"
    assert setup.facts.made is Made.STREAM
    assert setup.facts.recognisable == {Recognisable.TEACHER, Recognisable.STUDENTS}
    assert (setup.facts.purpose, setup.facts.audience) == (Purpose.REMOTE_LESSON, Audience.CLASS)
    assert setup.facts.today == TODAY
    assert (setup.scope, setup.group_ids, setup.person_ids) == (
        AudienceScope.SECTIONS,
        {1, 3},
        frozenset(),
    )
    assert setup.confirmed == {"G2.1", "G2.2"}


def test_every_unanswered_question_is_named() -> None:
    answers = _answers(made="", recognisable=[], purpose="", audience="", title="")
    assert answers.missing == ("made", "recognisable", "purpose", "audience")
    setup, errors = read_setup(answers, OPTIONS, TODAY)
    assert setup is None
    assert [e.field for e in errors] == ["title", "made", "recognisable", "purpose", "audience"]


def test_an_unknown_value_is_named_with_its_field() -> None:
    facts, errors = read_facts(_answers(purpose="gossip"), TODAY)
    assert facts is None
    assert [(e.field, e.value) for e in errors] == [("purpose", "gossip")]
    assert "%(value)s" in errors[0].message and "%(question)s" in errors[0].message


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ({"sections": ["1", "99"]}, "99"),  # a section of another course
        ({"sections": ["abc"]}, "abc"),
        ({"scope": "groups", "groups": ["1"]}, "1"),  # a section id posted as a group
        ({"scope": "students", "students": ["12"]}, "12"),
    ],
)
def test_ids_outside_this_course_are_refused(change: dict[str, object], value: str) -> None:
    setup, errors = read_setup(_answers(**change), OPTIONS, TODAY)
    assert setup is None
    assert [(e.field, e.value) for e in errors] == [("scope", value)]


def test_a_part_of_the_course_needs_at_least_one_pick() -> None:
    setup, errors = read_setup(_answers(sections=[]), OPTIONS, TODAY)
    assert setup is None and [e.field for e in errors] == ["scope"]


@pytest.mark.parametrize(
    ("audience", "scope", "ok"),
    [
        ("assessed", "students", True),
        ("assessed", "course", False),
        ("assessed", "sections", False),
        ("intervision", "groups", True),
        ("intervision", "course", False),
        ("class", "course", True),
        ("cohort", "students", True),
    ],
)
def test_the_scope_must_fit_the_named_audience(audience: str, scope: str, ok: bool) -> None:
    answers = _answers(audience=audience, scope=scope, students=["10"], groups=["2"])
    setup, errors = read_setup(answers, OPTIONS, TODAY)
    assert (setup is not None) is ok, errors


def test_every_choice_and_question_has_a_label() -> None:
    assert set(LABELS["made"]) == {m.value for m in Made}
    assert set(LABELS["purpose"]) == {p.value for p in Purpose}
    assert set(LABELS["audience"]) == {a.value for a in Audience}
    assert set(LABELS["recognisable"]) == {r.value for r in Recognisable}
    assert set(LABELS["scope"]) == {s.value for s in AudienceScope}
    assert {"made", "recognisable", "purpose", "audience", "scope", "confirm"} <= set(QUESTIONS)
