"""G3.3: what counts as a wider use of a consent item."""

from __future__ import annotations

from datetime import date

import pytest

from lti_tool.items.forms import Setup
from lti_tool.items.models import AudienceScope, Item, ItemAudience
from lti_tool.items.widening import AUDIENCE_ORDER, widens
from lti_tool.policy import Audience, Facts, Made, Purpose, Recognisable

SEC_A, SEC_B, GRP = 1, 2, 3


def _item(
    scope: AudienceScope = AudienceScope.SECTIONS, groups: tuple[int, ...] = (SEC_A,)
) -> Item:
    return Item(
        purpose=Purpose.INSTRUCTION,
        audience=Audience.COHORT,
        audience_scope=scope,
        audience_entries=[ItemAudience(group_id=g) for g in groups],
    )


def _setup(
    scope: AudienceScope = AudienceScope.SECTIONS,
    groups: frozenset[int] = frozenset({SEC_A}),
    purpose: Purpose = Purpose.INSTRUCTION,
    audience: Audience = Audience.COHORT,
) -> Setup:
    facts = Facts(
        Made.RECORDING, frozenset({Recognisable.STUDENTS}), purpose, audience, date(2027, 3, 15)
    )
    return Setup("t", facts, scope, groups, frozenset(), frozenset())


def test_audience_order_runs_from_narrow_to_wide() -> None:
    assert AUDIENCE_ORDER[0] is Audience.ASSESSED and AUDIENCE_ORDER[-1] is Audience.PUBLIC


@pytest.mark.parametrize(
    ("setup", "after", "wider"),
    [
        (_setup(), {1, 2}, False),  # unchanged
        (_setup(purpose=Purpose.WIDER_AUDIENCE), {1, 2}, True),
        (_setup(purpose=Purpose.ASSESSMENT), {1, 2}, True),  # any other purpose
        (_setup(audience=Audience.INSTITUTION), {1, 2}, True),
        (_setup(audience=Audience.CLASS), {1, 2}, False),  # narrower
        (_setup(AudienceScope.COURSE, frozenset()), {1, 2}, True),
        (_setup(groups=frozenset({SEC_A, SEC_B})), {1, 2}, True),  # a new section, empty
        (_setup(AudienceScope.GROUPS, frozenset({GRP})), {1, 3}, True),  # someone new
        (_setup(AudienceScope.GROUPS, frozenset({GRP})), {1}, False),  # a subset
        (_setup(AudienceScope.STUDENTS, frozenset()), {2}, False),
    ],
)
def test_widens(setup: Setup, after: set[int], wider: bool) -> None:
    assert widens(_item(), setup, before={1, 2}, after=after) is wider


def test_from_the_whole_course_only_new_people_widen() -> None:
    item = _item(AudienceScope.COURSE, ())
    assert not widens(item, _setup(), before={1, 2, 3}, after={1})
    assert not widens(item, _setup(AudienceScope.COURSE, frozenset()), before={1}, after={1})
