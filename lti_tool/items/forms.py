"""The setup wizard's form: its questions and choices, and reading answers into a setup.

Pure: no Flask, no database. Strings are English msgids, translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from lti_tool.items.models import AudienceScope, Item, ItemState
from lti_tool.policy import Audience, Facts, FactsError, Made, Purpose, Recognisable


def _(text: str) -> str:
    """Mark ``text`` for extraction; it is translated where it is shown."""
    return text


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    help: str = ""


QUESTIONS = {
    "title": _("Title"),
    "made": _("What is made?"),
    "recognisable": _("Who can be recognised in it?"),
    "purpose": _("What is it for?"),
    "audience": _("Who will see or hear it?"),
    "teacher_location": _("Where do you record or stream from?"),
    "scope": _("Who in this course can watch it?"),
    "confirm": _("Conditions"),
}

CHOICES: dict[str, tuple[Choice, ...]] = {
    "made": (
        Choice(Made.STREAM, _("A live stream"), _("Watched live and not kept.")),
        Choice(Made.RECORDING, _("A recording"), _("Kept to be watched later.")),
        Choice(
            Made.STREAM_AND_RECORDING,
            _("A live stream that is also recorded"),
            _("Watched live and kept afterwards."),
        ),
    ),
    "recognisable": (
        Choice(Recognisable.TEACHER, _("The teacher")),
        Choice(Recognisable.STUDENTS, _("Students"), _("Seen or heard so that they can be known.")),
        Choice(Recognisable.GUESTS, _("Guests or other staff")),
    ),
    "purpose": (
        Choice(
            Purpose.ASSESSMENT,
            _("Assessing students' work"),
            _("For example a presentation, a practice lesson or a conversation technique."),
        ),
        Choice(
            Purpose.REMOTE_LESSON,
            _("Keeping a lesson going remotely"),
            _("For example when the teacher or a student is ill."),
        ),
        Choice(
            Purpose.WIDER_AUDIENCE,
            _("Material for a wider audience"),
            _("Communication, or teaching material for others."),
        ),
        Choice(
            Purpose.INSTRUCTION,
            _("Instruction material for lessons"),
            _("Lessons, explanations or demonstrations to watch again."),
        ),
        Choice(Purpose.EXAM_CONTENT, _("Test or exam content")),
    ),
    "audience": (
        Choice(Audience.ASSESSED, _("The assessed student(s) and the assessors")),
        Choice(Audience.CLASS, _("The class or lesson group")),
        Choice(Audience.INTERVISION, _("An intervision group")),
        Choice(Audience.COHORT, _("The year cohort")),
        Choice(Audience.INSTITUTION, _("The whole institution or other cohorts")),
        Choice(Audience.PUBLIC, _("Anyone (public)")),
    ),
    "teacher_location": (
        Choice("school", _("At school")),
        Choice("private", _("At home or another private place")),
    ),
    "scope": (
        Choice(AudienceScope.COURSE, _("The whole course")),
        Choice(AudienceScope.SECTIONS, _("One or more sections")),
        Choice(AudienceScope.GROUPS, _("One or more groups")),
        Choice(AudienceScope.STUDENTS, _("Selected students")),
    ),
}

#: Label of every choice by field and value, and of every item state, for pages.
LABELS: dict[str, dict[str, str]] = {
    **{field: {c.value: c.label for c in choices} for field, choices in CHOICES.items()},
    "state": {
        ItemState.PLANNED: _("Planned"),
        ItemState.AWAITING_CONSENT: _("Awaiting consent"),
        ItemState.READY: _("Ready"),
        ItemState.CANCELLED: _("Cancelled"),
        ItemState.DELETED: _("Deleted"),
    },
}

FACT_FIELDS = ("made", "recognisable", "purpose", "audience")

# Which roster scopes fit the audience the teacher named. An assessment recording for "the
# assessed student(s)" reaches only those students (G1.2); an intervision group is a group or a
# set of students. Any other audience may be any part of the course.
SCOPES_FOR: dict[str, frozenset[AudienceScope]] = {
    Audience.ASSESSED: frozenset({AudienceScope.STUDENTS}),
    Audience.INTERVISION: frozenset({AudienceScope.GROUPS, AudienceScope.STUDENTS}),
}


class FormData(Protocol):
    def get(self, key: str, /) -> str | None: ...
    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Option:
    """A section, group or student the teacher can pick."""

    id: int
    name: str


@dataclass(frozen=True)
class AudienceOptions:
    """What this course offers to pick from (from its roster)."""

    sections: tuple[Option, ...]
    groups: tuple[Option, ...]
    students: tuple[Option, ...]


@dataclass(frozen=True)
class FieldError:
    """A problem with one field; ``message`` is a msgid that may use ``%(question)s`` (the
    field's question) and ``%(value)s``."""

    field: str
    message: str
    value: str = ""


@dataclass(frozen=True)
class Answers:
    """The raw answers, to show the form again as it was sent."""

    title: str = ""
    made: str = ""
    recognisable: tuple[str, ...] = ()
    purpose: str = ""
    audience: str = ""
    teacher_location: str = "school"
    scope: str = AudienceScope.COURSE.value
    sections: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    students: tuple[str, ...] = ()
    confirmed: tuple[str, ...] = ()

    @classmethod
    def from_form(cls, form: FormData) -> Answers:
        def one(key: str, default: str = "") -> str:
            return (form.get(key) or default).strip()

        def many(key: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(v.strip() for v in form.getlist(key) if v.strip()))

        return cls(
            title=one("title"),
            made=one("made"),
            recognisable=many("recognisable"),
            purpose=one("purpose"),
            audience=one("audience"),
            teacher_location=one("teacher_location", "school"),
            scope=one("scope", AudienceScope.COURSE.value),
            sections=many("sections"),
            groups=many("groups"),
            students=many("students"),
            confirmed=many("confirm"),
        )

    @classmethod
    def from_item(cls, item: Item, sections: Iterable[int]) -> Answers:
        """The answers ``item`` was set up with; ``sections`` are its group ids that are
        sections (the rest of its groups are groups)."""
        section_ids = set(sections)
        group_ids = [e.group_id for e in item.audience_entries if e.group_id is not None]
        return cls(
            title=item.title,
            made=item.made.value,
            recognisable=tuple(item.recognisable),
            purpose=item.purpose.value,
            audience=item.audience.value,
            teacher_location=item.teacher_location.value,
            scope=item.audience_scope.value,
            sections=tuple(str(g) for g in group_ids if g in section_ids),
            groups=tuple(str(g) for g in group_ids if g not in section_ids),
            students=tuple(
                str(e.person_id) for e in item.audience_entries if e.person_id is not None
            ),
            confirmed=tuple(item.confirmed),
        )

    @property
    def missing(self) -> tuple[str, ...]:
        """The questions not answered yet."""
        return tuple(field for field in FACT_FIELDS if not getattr(self, field))


@dataclass(frozen=True)
class Setup:
    """A complete, valid setup (the decision is made from ``facts`` by the caller)."""

    title: str
    facts: Facts
    scope: AudienceScope
    group_ids: frozenset[int]
    person_ids: frozenset[int]
    confirmed: frozenset[str]


def read_facts(answers: Answers, today: date) -> tuple[Facts | None, list[FieldError]]:
    """The facts, or a problem for every unanswered question (or the first invalid one)."""
    errors = [FieldError(f, _("Answer the question “%(question)s”.")) for f in answers.missing]
    if errors:
        return None, errors
    try:
        facts = Facts.parse(
            {
                "made": answers.made,
                "recognisable": list(answers.recognisable),
                "purpose": answers.purpose,
                "audience": answers.audience,
                "teacher_location": answers.teacher_location,
            },
            today,
        )
    except FactsError as error:
        return None, [
            FieldError(
                error.field,
                _("“%(value)s” is not a possible answer to “%(question)s”."),
                error.value or "",
            )
        ]
    return facts, []


def _picked(
    answers: Answers, field: str, options: tuple[Option, ...], errors: list[FieldError]
) -> frozenset[int]:
    allowed = {option.id for option in options}
    picked: set[int] = set()
    for raw in getattr(answers, field):
        if not raw.isdigit() or int(raw) not in allowed:
            errors.append(
                FieldError("scope", _("“%(value)s” is not part of this course."), raw[:64])
            )
        else:
            picked.add(int(raw))
    return frozenset(picked)


def read_setup(
    answers: Answers, options: AudienceOptions, today: date
) -> tuple[Setup | None, list[FieldError]]:
    """A complete setup, or every problem found with the answers."""
    errors: list[FieldError] = []
    if not answers.title:
        errors.append(FieldError("title", _("Give it a title.")))
    elif len(answers.title) > 200:
        errors.append(FieldError("title", _("The title can be at most 200 characters.")))
    facts, fact_errors = read_facts(answers, today)
    errors += fact_errors
    scope = next((s for s in AudienceScope if s.value == answers.scope), None)
    group_ids: frozenset[int] = frozenset()
    person_ids: frozenset[int] = frozenset()
    if scope is None:
        errors.append(
            FieldError(
                "scope",
                _("“%(value)s” is not a possible answer to “%(question)s”."),
                answers.scope[:64],
            )
        )
    elif scope is AudienceScope.SECTIONS:
        group_ids = _picked(answers, "sections", options.sections, errors)
    elif scope is AudienceScope.GROUPS:
        group_ids = _picked(answers, "groups", options.groups, errors)
    elif scope is AudienceScope.STUDENTS:
        person_ids = _picked(answers, "students", options.students, errors)
    part_of_course = scope is not None and scope is not AudienceScope.COURSE
    if (
        part_of_course
        and not group_ids | person_ids
        and not any(e.field == "scope" for e in errors)
    ):
        errors.append(FieldError("scope", _("Pick at least one for “%(question)s”.")))
    if (
        facts is not None
        and scope is not None
        and scope not in SCOPES_FOR.get(facts.audience, frozenset(AudienceScope))
    ):
        message = (
            _("Only the assessed students can watch this: pick them under Selected students.")
            if facts.audience is Audience.ASSESSED
            else _("An intervision group watches this: pick groups or selected students.")
        )
        errors.append(FieldError("scope", message))
    if errors or facts is None or scope is None:
        return None, errors
    return Setup(
        answers.title, facts, scope, group_ids, person_ids, frozenset(answers.confirmed)
    ), []
