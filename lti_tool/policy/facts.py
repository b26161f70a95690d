"""The facts a teacher answers in the setup wizard, and the institution settings a decision uses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from itertools import combinations, product
from typing import TypeVar


class Made(StrEnum):
    """What is made; a stream that is also recorded is a recording too."""

    STREAM = "stream"
    RECORDING = "recording"
    STREAM_AND_RECORDING = "stream+recording"


class Recognisable(StrEnum):
    """Who can be recognised in image or sound."""

    TEACHER = "teacher"
    STUDENTS = "students"
    GUESTS = "guests"


class Purpose(StrEnum):
    """What the recording or stream is for."""

    ASSESSMENT = "assessment"
    REMOTE_LESSON = "remote-lesson"
    WIDER_AUDIENCE = "wider-audience"
    INSTRUCTION = "instruction"
    EXAM_CONTENT = "exam-content"


class Audience(StrEnum):
    """Who will see or hear it, from narrow to wide."""

    ASSESSED = "assessed"
    CLASS = "class"
    INTERVISION = "intervision"
    COHORT = "cohort"
    INSTITUTION = "institution"
    PUBLIC = "public"


class TeacherLocation(StrEnum):
    """Where the teacher records or streams from."""

    SCHOOL = "school"
    PRIVATE = "private"


E = TypeVar("E", bound=StrEnum)


class FactsError(ValueError):
    """A fact is missing or has a value outside its allowed values."""

    def __init__(self, field: str, value: str | None, allowed: tuple[str, ...]) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        choices = ", ".join(allowed)
        if value is None:
            message = f"{field}: missing; choose from: {choices}"
        else:
            message = f"{field}: {value!r} is not one of: {choices}"
        super().__init__(message)


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def _member(enum: type[E], field: str, raw: object) -> E:
    value = None if raw is None or raw == "" else str(raw)
    if value is not None:
        for member in enum:
            if member.value == value:
                return member
    raise FactsError(field, value, _values(enum))


@dataclass(frozen=True)
class Facts:
    """The answers a decision is made from; ``today`` is the date the item is set up."""

    made: Made
    recognisable: frozenset[Recognisable]
    purpose: Purpose
    audience: Audience
    today: date
    teacher_location: TeacherLocation = TeacherLocation.SCHOOL

    def __post_init__(self) -> None:
        if not self.recognisable:
            raise FactsError("recognisable", None, _values(Recognisable))

    @classmethod
    def parse(cls, values: Mapping[str, object], today: date) -> Facts:
        """Build facts from strings (e.g. form fields); ``recognisable`` may be one or several.

        Raises ``FactsError`` naming the first bad field, its value and the allowed values.
        Keys other than the facts are ignored; a missing ``teacher_location`` means school.
        """
        raw_recognisable = values.get("recognisable")
        names = [raw_recognisable] if isinstance(raw_recognisable, str) else raw_recognisable
        if not isinstance(names, list | tuple | set | frozenset) or not names:
            raise FactsError("recognisable", None, _values(Recognisable))
        location = values.get("teacher_location") or TeacherLocation.SCHOOL.value
        return cls(
            made=_member(Made, "made", values.get("made")),
            recognisable=frozenset(_member(Recognisable, "recognisable", n) for n in names),
            purpose=_member(Purpose, "purpose", values.get("purpose")),
            audience=_member(Audience, "audience", values.get("audience")),
            today=today,
            teacher_location=_member(TeacherLocation, "teacher_location", location),
        )


def every_combination(today: date) -> Iterator[Facts]:
    """Every possible set of answers on ``today`` (3 x 7 x 5 x 6 x 2 = 1260)."""
    groups = [
        frozenset(group)
        for size in range(1, len(Recognisable) + 1)
        for group in combinations(Recognisable, size)
    ]
    for made, group, purpose, audience, location in product(
        Made, groups, Purpose, Audience, TeacherLocation
    ):
        yield Facts(made, group, purpose, audience, today, location)


@dataclass(frozen=True)
class InstitutionSettings:
    """Institution settings a decision depends on: the (month, day) a school year ends."""

    school_year_end: tuple[int, int] = (7, 31)

    def __post_init__(self) -> None:
        month, day = self.school_year_end
        try:
            date(2000, month, day)  # a leap year, so 29 February is accepted
        except ValueError:
            raise ValueError(
                f"school_year_end: {month:02d}-{day:02d} is not a valid month and day"
            ) from None
