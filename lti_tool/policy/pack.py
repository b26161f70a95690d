"""The guideline pack model: rules with their conditions, retention rules and decision cases.

Objects here are only built by ``lti_tool.policy.loading`` after the whole document validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from lti_tool.policy.decision import Consenter, LegalBasis, Reason, Retention, Visibility
from lti_tool.policy.facts import Audience, Facts, Made, Purpose, Recognisable, TeacherLocation
from lti_tool.policy.texts import Text


@dataclass(frozen=True)
class Criteria:
    """Which facts something applies to: each field holds the values that match.

    ``includes`` must all be recognisable, ``excludes`` none of them.
    """

    made: frozenset[Made] = frozenset(Made)
    purpose: frozenset[Purpose] = frozenset(Purpose)
    audience: frozenset[Audience] = frozenset(Audience)
    teacher_location: frozenset[TeacherLocation] = frozenset(TeacherLocation)
    includes: frozenset[Recognisable] = frozenset()
    excludes: frozenset[Recognisable] = frozenset()

    def matches(self, facts: Facts) -> bool:
        """Whether ``facts`` meet every criterion."""
        return (
            facts.made in self.made
            and facts.purpose in self.purpose
            and facts.audience in self.audience
            and facts.teacher_location in self.teacher_location
            and self.includes <= facts.recognisable
            and not self.excludes & facts.recognisable
        )


@dataclass(frozen=True)
class Condition:
    """A condition of a rule, confirmed by the teacher; shown only when ``when`` matches.

    ``consent_of`` names recognisable groups whose consent the condition requires.
    """

    id: str
    text: Text
    when: Criteria | None = None
    consent_of: tuple[Recognisable, ...] = ()

    def applies(self, facts: Facts) -> bool:
        """Whether the condition is part of a decision on ``facts``."""
        return self.when is None or self.when.matches(facts)


@dataclass(frozen=True)
class Rule:
    """A rule of the guideline (G1 ...) with its legal basis and conditions."""

    id: str
    legal_basis: LegalBasis
    title: Text
    summary: Text
    conditions: tuple[Condition, ...]


class RetentionMethod(StrEnum):
    """How a retention rule computes its date (the pack's ``kind``)."""

    SCHOOL_YEAR_END = "school-year-end"
    YEARS_AFTER_CREATION = "years-after-creation"
    UNTIL_GRADUATION = "until-graduation"
    YEARLY_REVIEW = "yearly-review"
    CONSENT_PERIOD = "consent-period"


@dataclass(frozen=True)
class RetentionRule:
    """A named retention rule; ``cite`` is the condition id it implements.

    ``years``: for years-after-creation and until-graduation the number of years; for
    consent-period the number of school years after the current one; otherwise None.
    """

    id: str
    method: RetentionMethod
    cite: str
    text: Text
    years: int | None = None


@dataclass(frozen=True)
class SharedCondition:
    """A condition of one rule that also applies when one of ``rules`` decides."""

    condition: Condition
    rules: frozenset[str]


@dataclass(frozen=True)
class Ruling:
    """What a case decides: the rule, whose consent it asks, retention and who may watch.

    ``consent_of`` names recognisable groups whose consent is needed when they are recognisable.
    """

    rule: Rule
    retention: RetentionRule
    visibility: Visibility
    consent_of: tuple[Recognisable, ...] = ()


@dataclass(frozen=True)
class Case:
    """One row of the decision table: the facts it covers and what follows.

    A case without a ruling refuses; its reasons say why and what would be allowed.
    """

    id: str
    when: Criteria
    reasons: tuple[Reason, ...]
    ruling: Ruling | None


@dataclass(frozen=True)
class Pack:
    """A validated guideline pack; get one from ``load_pack``, ``parse_pack`` or ``default_pack``.

    ``digest`` is the sha256 of the canonical document content (comments and layout do not
    count), to version consent against.
    """

    name: str
    version: str
    digest: str
    source: str
    rules: tuple[Rule, ...]
    shared_conditions: tuple[SharedCondition, ...]
    cases: tuple[Case, ...]
    retention: Mapping[str, RetentionRule]
    legal_bases: Mapping[LegalBasis, Text]
    consenters: Mapping[Consenter, Text]
    consent_for: Mapping[Recognisable, tuple[Consenter, ...]]
    visibility: Mapping[Visibility, Text]
    not_covered: Text
    privacy_officer: Text
    _by_id: dict[str, Rule | Condition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Rule | Condition] = {}
        for rule in self.rules:
            by_id[rule.id] = rule
            by_id.update((condition.id, condition) for condition in rule.conditions)
        object.__setattr__(self, "_by_id", by_id)

    def rule(self, rule_id: str) -> Rule:
        """The rule with ``rule_id``; KeyError if the pack has none."""
        found = self._by_id[rule_id]
        if not isinstance(found, Rule):
            raise KeyError(rule_id)
        return found

    def condition(self, condition_id: str) -> Condition:
        """The condition with ``condition_id``; KeyError if the pack has none."""
        found = self._by_id[condition_id]
        if not isinstance(found, Condition):
            raise KeyError(condition_id)
        return found

    def text(
        self,
        ref: str | Text | Reason | Retention | LegalBasis | Visibility | Consenter,
        locale: str,
    ) -> str:
        """The text of ``ref`` in ``locale``.

        ``ref`` is a rule id (its title), a condition id (its text), a legal basis, visibility
        scope or consenter (enum member or its string value), or anything carrying a text.
        Raises KeyError for an id or value the pack does not define.
        """
        if isinstance(ref, Text):
            return ref.get(locale)
        if isinstance(ref, Reason | Retention):
            return ref.text.get(locale)
        if ref in self._by_id:
            found = self._by_id[ref]
            return (found.title if isinstance(found, Rule) else found.text).get(locale)
        for texts in (self.legal_bases, self.visibility, self.consenters):
            for key, text in texts.items():
                if key.value == ref:
                    return text.get(locale)
        raise KeyError(ref)
