"""Seed data of the development LMS: one institution, two courses, their people.

Course ``course-1`` "Demo course: Biology 4A" (label BIO-4A) has sections ``sec-A`` and
``sec-B`` and project groups ``grp-1`` (anna, daan, sam) and ``grp-2`` (bram, eva):

=========  ====================  ==================================  =================
user id    name                  course-1 role                       sections / groups
=========  ====================  ==================================  =================
t-tess     Tess de Vries         Instructor (also teaches course-2)  sec-A, sec-B
ta-tom     Tom Jansen            TeachingAssistant (+ Instructor)    sec-A, sec-B
s-anna     Anna Bakker           Learner                             sec-A / grp-1
s-bram     Bram Visser           Learner                             sec-A / grp-2
s-chloe    Chloé Dubois          Learner                             sec-A
s-daan     Daan Smit             Learner                             sec-B / grp-1
s-eva      Eva Mulder            Learner                             sec-B / grp-2
s-finn     Finn O'Brien          Learner                             sec-B
s-sam      Sam Meijer            Learner, under 16 (see birthdate)   sec-A / grp-1
p-petra    Petra Meijer          Mentor of s-sam (role_scope_mentor) sec-A
a-adam     Adam Achterberg       none: institution Administrator     -
=========  ====================  ==================================  =================

Course ``course-2`` "Physics 5B" (label PHY-5B, section ``sec-P``): t-tess (Instructor) and
``s-gijs`` Gijs de Boer (Learner), for cross-course tests.

Each course has one resource link ``rl-<course id>`` titled "Recordings and streams".
LTI has no birthdate claim: :attr:`User.birthdate` is here for the demo's other data sources
only; Sam's is always 14 years before today, so Sam stays under 16.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from lti_tool.devlms import claims as c

RESOURCE_LINK_TITLE = "Recordings and streams"


@dataclass(frozen=True)
class User:
    """A person known to the platform; ``id`` is the stable ``sub``."""

    id: str
    given_name: str
    family_name: str
    email: str
    locale: str
    institution_roles: tuple[str, ...]
    birthdate: date | None = None

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True)
class Course:
    """A course (LTI context) with its sections, groups and single resource link."""

    id: str
    label: str
    title: str
    sections: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)

    @property
    def resource_link_id(self) -> str:
        return f"rl-{self.id}"


@dataclass(frozen=True)
class Enrollment:
    """A user's membership of a course as it is on a fresh platform."""

    user_id: str
    course_id: str
    roles: tuple[str, ...]
    section_ids: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()
    mentees: tuple[str, ...] = ()


def _years_ago(years: int) -> date:
    today = date.today()
    return today.replace(year=today.year - years, day=min(today.day, 28))


def _user(uid: str, given: str, family: str, locale: str, *roles: str, **extra: date) -> User:
    email = f"{given}.{family}".lower().replace(" ", "").replace("'", "").replace("é", "e")
    return User(uid, given, family, f"{email}@school.example", locale, roles, **extra)


USERS: dict[str, User] = {
    u.id: u
    for u in (
        _user("t-tess", "Tess", "de Vries", "nl", c.ROLE_INSTITUTION_FACULTY),
        _user("ta-tom", "Tom", "Jansen", "en", c.ROLE_INSTITUTION_FACULTY),
        _user("s-anna", "Anna", "Bakker", "nl", c.ROLE_INSTITUTION_STUDENT),
        _user("s-bram", "Bram", "Visser", "nl", c.ROLE_INSTITUTION_STUDENT),
        _user("s-chloe", "Chloé", "Dubois", "en", c.ROLE_INSTITUTION_STUDENT),
        _user("s-daan", "Daan", "Smit", "nl", c.ROLE_INSTITUTION_STUDENT),
        _user("s-eva", "Eva", "Mulder", "nl", c.ROLE_INSTITUTION_STUDENT),
        _user("s-finn", "Finn", "O'Brien", "en", c.ROLE_INSTITUTION_STUDENT),
        _user("s-sam", "Sam", "Meijer", "nl", c.ROLE_INSTITUTION_STUDENT, birthdate=_years_ago(14)),
        _user("s-gijs", "Gijs", "de Boer", "nl", c.ROLE_INSTITUTION_STUDENT),
        _user("p-petra", "Petra", "Meijer", "nl", c.ROLE_INSTITUTION_MENTOR),
        _user("a-adam", "Adam", "Achterberg", "en", c.ROLE_INSTITUTION_ADMIN),
    )
}

COURSES: dict[str, Course] = {
    "course-1": Course(
        "course-1",
        "BIO-4A",
        "Demo course: Biology 4A",
        sections={"sec-A": "Section A", "sec-B": "Section B"},
        groups={"grp-1": "Project group 1", "grp-2": "Project group 2"},
    ),
    "course-2": Course("course-2", "PHY-5B", "Physics 5B", sections={"sec-P": "Physics 5B"}),
}

_TEACHER = (c.ROLE_INSTRUCTOR,)
_TA = (c.ROLE_INSTRUCTOR, c.ROLE_TEACHING_ASSISTANT)  # sub-role with its principal role
_LEARNER = (c.ROLE_LEARNER,)
_BOTH = ("sec-A", "sec-B")

ENROLLMENTS: tuple[Enrollment, ...] = (
    Enrollment("t-tess", "course-1", _TEACHER, _BOTH),
    Enrollment("ta-tom", "course-1", _TA, _BOTH),
    Enrollment("s-anna", "course-1", _LEARNER, ("sec-A",), ("grp-1",)),
    Enrollment("s-bram", "course-1", _LEARNER, ("sec-A",), ("grp-2",)),
    Enrollment("s-chloe", "course-1", _LEARNER, ("sec-A",)),
    Enrollment("s-daan", "course-1", _LEARNER, ("sec-B",), ("grp-1",)),
    Enrollment("s-eva", "course-1", _LEARNER, ("sec-B",), ("grp-2",)),
    Enrollment("s-finn", "course-1", _LEARNER, ("sec-B",)),
    Enrollment("s-sam", "course-1", _LEARNER, ("sec-A",), ("grp-1",)),
    Enrollment("p-petra", "course-1", (c.ROLE_MENTOR,), ("sec-A",), mentees=("s-sam",)),
    Enrollment("t-tess", "course-2", _TEACHER, ("sec-P",)),
    Enrollment("s-gijs", "course-2", _LEARNER, ("sec-P",)),
)
