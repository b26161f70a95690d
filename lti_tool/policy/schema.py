"""The pack document schema: reads a parsed YAML document into a ``Pack``, or records problems.

Decision cases must not overlap: every combination of facts matches at most one case, checked
over all combinations. A combination no case matches is refused by ``evaluate``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from itertools import combinations
from typing import Any, TypeVar

from lti_tool.policy.decision import Consenter, LegalBasis, Reason, Visibility
from lti_tool.policy.facts import (
    Audience,
    Facts,
    Made,
    Purpose,
    Recognisable,
    TeacherLocation,
    every_combination,
)
from lti_tool.policy.pack import (
    Case,
    Condition,
    Criteria,
    Pack,
    RetentionMethod,
    RetentionRule,
    Rule,
    Ruling,
    SharedCondition,
)
from lti_tool.policy.reading import Fields, Node
from lti_tool.policy.texts import Text

_RULE_ID = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
_CONDITION_SUFFIX = re.compile(r"[A-Za-z0-9]+\Z")
_SECTIONS = (
    "name",
    "version",
    "legal_bases",
    "consenters",
    "consent_for",
    "visibility",
    "rules",
    "retention",
    "decisions",
    "refusal",
)
_CRITERIA = ("made", "recognisable", "purpose", "audience", "teacher_location")
_YEARS_MINIMUM = {
    RetentionMethod.YEARS_AFTER_CREATION: 1,
    RetentionMethod.UNTIL_GRADUATION: 0,
    RetentionMethod.CONSENT_PERIOD: 0,
}


def read_pack(root: Node, digest: str) -> Pack | None:
    """The pack in the document at ``root``, or None after recording its problems at ``root``."""
    return _PackReader(root, digest).read()


def _describe(facts: Facts) -> str:
    recognisable = "+".join(group for group in Recognisable if group in facts.recognisable)
    return (
        f"made={facts.made}, recognisable={recognisable}, purpose={facts.purpose}, "
        f"audience={facts.audience}, teacher_location={facts.teacher_location}"
    )


T = TypeVar("T")
K = TypeVar("K")


def _present(items: Iterable[T | None]) -> tuple[T, ...]:
    return tuple(item for item in items if item is not None)


def _present_values(mapping: dict[K, T | None]) -> dict[K, T]:
    return {key: value for key, value in mapping.items() if value is not None}


def _set(node: Node, allowed: list[Any]) -> frozenset[Any]:
    """The values listed at ``node``, or all of ``allowed`` when the key is left out."""
    return frozenset(node.choices(allowed) or ()) if node.present else frozenset(allowed)


class _PackReader:
    """Reads the sections of one pack document in dependency order.

    References are checked against what the document declares, so an entry that is itself
    broken is reported once, not again at every reference to it. Broken entries are left out
    (their problem is recorded), and no pack is built while any problem is recorded.
    """

    def __init__(self, root: Node, digest: str) -> None:
        self.root = root
        self.digest = digest
        self.legal_bases: dict[LegalBasis, Text | None] = {}
        self.consenters: dict[Consenter, Text | None] = {}
        self.visibility: dict[Visibility, Text | None] = {}
        self.consent_for: dict[Recognisable, tuple[Consenter, ...]] = {}
        self.rules: dict[str, Rule | None] = {}
        self.conditions: dict[str, Condition | None] = {}
        self.retention: dict[str, RetentionRule | None] = {}
        self.ids: dict[str, str] = {}

    def read(self) -> Pack | None:
        top = self.root.fields(_SECTIONS, ("shared_conditions",))
        name, version = top["name"].string(), top["version"].string()
        self.legal_bases = self._texts_by(top["legal_bases"], list(LegalBasis))
        self.consenters = self._texts_by(top["consenters"], list(Consenter))
        self.visibility = self._texts_by(top["visibility"], list(Visibility))
        self._read_consent_for(top["consent_for"])
        for node in top["rules"].items():
            self._read_rule(node)
        for key, node in top["retention"].entries().items():
            self.retention[key] = self._retention(key, node)
        shared = [self._shared(node) for node in top["shared_conditions"].items()]
        case_nodes = top["decisions"].items()
        cases = [self._case(node) for node in case_nodes]
        refusal = top["refusal"].fields(("not_covered", "privacy_officer"))
        not_covered = refusal["not_covered"].text()
        privacy_officer = refusal["privacy_officer"].text()
        if not self.root.problems:
            self._check_coverage([case for case in cases if case is not None], case_nodes)
        if self.root.problems or not (name and version and not_covered and privacy_officer):
            return None
        return Pack(
            name=name,
            version=version,
            digest=self.digest,
            source=self.root.file,
            rules=_present(self.rules.values()),
            shared_conditions=_present(shared),
            cases=_present(cases),
            retention=_present_values(self.retention),
            legal_bases=_present_values(self.legal_bases),
            consenters=_present_values(self.consenters),
            consent_for=self.consent_for,
            visibility=_present_values(self.visibility),
            not_covered=not_covered,
            privacy_officer=privacy_officer,
        )

    @staticmethod
    def _texts_by(node: Node, allowed: list[Any]) -> dict[Any, Text | None]:
        result: dict[Any, Text | None] = {}
        for key, child in node.entries().items():
            value = Node(key, child.path, child.file, child.problems).choice(allowed)
            if value is not None:
                result[value] = child.text()
        return result

    def _read_consent_for(self, node: Node) -> None:
        for key, child in node.entries().items():
            group = Node(key, child.path, child.file, child.problems).choice(list(Recognisable))
            consenters = child.choices(list(Consenter))
            for index, consenter in enumerate(consenters or ()):
                if consenter not in self.consenters:
                    child.at(index).fail(f"'{consenter}' has no text under consenters")
            if group is not None and consenters is not None:
                self.consent_for[group] = consenters

    def _claim_id(self, node: Node) -> str | None:
        """Read the id of a rule, condition or case; ids are unique across the pack."""
        value = node.string()
        if value is not None and value in self.ids:
            node.fail(f"'{value}' is already used at {self.ids[value]}")
            return None
        if value is not None:
            self.ids[value] = node.path
        return value

    def _criteria(self, node: Node) -> Criteria | None:
        before = len(node.problems)
        fields = node.fields((), _CRITERIA)
        groups = fields["recognisable"].fields((), ("includes", "excludes"))
        if fields["recognisable"].present and not groups and len(node.problems) == before:
            fields["recognisable"].fail("give includes, excludes or both")
        includes = frozenset(groups["includes"].choices(list(Recognisable)) or ())
        excludes = frozenset(groups["excludes"].choices(list(Recognisable)) or ())
        if includes & excludes:
            fields["recognisable"].fail("includes and excludes share a value")
        criteria = Criteria(
            made=_set(fields["made"], list(Made)),
            purpose=_set(fields["purpose"], list(Purpose)),
            audience=_set(fields["audience"], list(Audience)),
            teacher_location=_set(fields["teacher_location"], list(TeacherLocation)),
            includes=includes,
            excludes=excludes,
        )
        return None if len(node.problems) > before else criteria

    def _consent_of(self, node: Node) -> tuple[Recognisable, ...]:
        groups = node.choices(list(Recognisable)) or ()
        for index, group in enumerate(groups):
            if group not in self.consent_for:
                node.at(index).fail(f"'{group}' has no entry under consent_for")
        return groups

    def _read_rule(self, node: Node) -> None:
        before = len(node.problems)
        fields = node.fields(("id", "legal_basis", "title", "summary", "conditions"))
        rule_id = self._claim_id(fields["id"])
        if rule_id is not None and not _RULE_ID.match(rule_id):
            fields["id"].fail("must start with a capital letter and hold only letters and digits")
        basis = fields["legal_basis"].choice(list(LegalBasis))
        if basis is not None and basis not in self.legal_bases:
            fields["legal_basis"].fail(f"'{basis}' has no text under legal_bases")
        title, summary = fields["title"].text(), fields["summary"].text()
        conditions = [self._condition(child, rule_id) for child in fields["conditions"].items()]
        if rule_id is None:
            return
        rule = None
        if len(node.problems) == before and basis and title and summary:
            rule = Rule(rule_id, basis, title, summary, _present(conditions))
        self.rules[rule_id] = rule

    def _condition(self, node: Node, rule_id: str | None) -> Condition | None:
        before = len(node.problems)
        fields = node.fields(("id", "text"), ("when", "consent_of"))
        condition_id = self._claim_id(fields["id"])
        if condition_id is not None and rule_id is not None:
            prefix, _, suffix = condition_id.partition(".")
            if prefix != rule_id or not _CONDITION_SUFFIX.match(suffix):
                fields["id"].fail(f"must be {rule_id}.<number>, e.g. {rule_id}.1")
        text = fields["text"].text()
        when = self._criteria(fields["when"]) if fields["when"].present else None
        consent_of = self._consent_of(fields["consent_of"])
        if condition_id is None:
            return None
        condition = None
        if len(node.problems) == before and text:
            condition = Condition(condition_id, text, when, consent_of)
        self.conditions[condition_id] = condition
        return condition

    def _retention(self, key: str, node: Node) -> RetentionRule | None:
        before = len(node.problems)
        fields = node.fields(("kind", "rule", "text"), ("years",))
        method = fields["kind"].choice(list(RetentionMethod))
        cite = fields["rule"].choice(list(self.conditions))
        text = fields["text"].text()
        years = None
        if method in _YEARS_MINIMUM:
            years = fields["years"].integer(_YEARS_MINIMUM[method])
            if not fields["years"].present:
                fields["years"].fail(f"missing; kind {method} needs a number of years")
        elif method is not None and fields["years"].present:
            fields["years"].fail(f"kind {method} takes no years")
        if len(node.problems) > before or not (method and cite and text):
            return None
        return RetentionRule(key, method, cite, text, years)

    def _shared(self, node: Node) -> SharedCondition | None:
        fields = node.fields(("condition", "rules"))
        condition_id = fields["condition"].choice(list(self.conditions))
        rules = fields["rules"].choices(list(self.rules))
        owner = None if condition_id is None else condition_id.partition(".")[0]
        if rules is not None and owner in rules:
            fields["rules"].fail(f"{condition_id} already belongs to {owner}")
            return None
        condition = None if condition_id is None else self.conditions[condition_id]
        return SharedCondition(condition, frozenset(rules)) if condition and rules else None

    def _reasons(self, node: Node) -> tuple[Reason, ...]:
        reasons = []
        for child in node.items():
            fields = child.fields(("cite", "text"))
            cite = fields["cite"].choice([*self.rules, *self.conditions])
            text = fields["text"].text()
            if cite is not None and text is not None:
                reasons.append(Reason(cite, text))
        return tuple(reasons)

    def _case(self, node: Node) -> Case | None:
        before = len(node.problems)
        fields = node.fields(
            ("id", "when", "reasons"),
            ("rule", "refused", "consent_of", "retention", "visibility"),
        )
        case_id = self._claim_id(fields["id"])
        when = self._criteria(fields["when"])
        reasons = self._reasons(fields["reasons"])
        refused = fields["refused"].present
        if refused:
            if fields["refused"].value is not True:
                fields["refused"].fail("must be true (or leave it out and give a rule)")
            for key in ("rule", "consent_of", "retention", "visibility"):
                if fields[key].present:
                    fields[key].fail("not allowed in a refused case")
        ruling = None if refused else self._ruling(node, fields)
        if len(node.problems) > before or case_id is None or when is None:
            return None
        return Case(case_id, when, reasons, ruling) if refused or ruling else None

    def _ruling(self, node: Node, fields: Fields) -> Ruling | None:
        for key in ("rule", "retention", "visibility"):
            if not fields[key].present:
                node.at(key).fail("missing; a case gives a rule, retention and visibility")
        rule_id = fields["rule"].choice(list(self.rules))
        retention_id = fields["retention"].choice(list(self.retention))
        visibility = fields["visibility"].choice(list(Visibility))
        if visibility is not None and visibility not in self.visibility:
            fields["visibility"].fail(f"'{visibility}' has no text under visibility")
        consent_of = self._consent_of(fields["consent_of"])
        rule = None if rule_id is None else self.rules[rule_id]
        retention = None if retention_id is None else self.retention[retention_id]
        if rule is None or retention is None or visibility is None:
            return None
        if rule.legal_basis is LegalBasis.CONSENT and not consent_of:
            node.at("consent_of").fail(f"missing; {rule.id} rests on consent")
        return Ruling(rule, retention, visibility, consent_of)

    def _check_coverage(self, cases: list[Case], nodes: list[Node]) -> None:
        """Each combination of facts matches at most one case; each case matches some."""
        overlaps: dict[tuple[int, int], Facts] = {}
        matched: set[int] = set()
        consent_gaps: dict[int, Facts] = {}
        for facts in every_combination(date(2000, 1, 1)):
            hits = [index for index, case in enumerate(cases) if case.when.matches(facts)]
            matched.update(hits)
            for first, second in combinations(hits, 2):
                overlaps.setdefault((first, second), facts)
            for index in hits:
                asked = cases[index].ruling
                if asked and asked.consent_of and not {*asked.consent_of} & facts.recognisable:
                    consent_gaps.setdefault(index, facts)
        for (first, second), facts in sorted(overlaps.items()):
            nodes[second].at("when").fail(
                f"overlaps decisions[{first}] ({cases[first].id}), e.g. for {_describe(facts)}"
            )
        for index, facts in sorted(consent_gaps.items()):
            nodes[index].at("consent_of").fail(
                f"none of these groups is recognisable for {_describe(facts)}"
            )
        for index, case in enumerate(cases):
            if index not in matched:
                nodes[index].at("when").fail(f"case {case.id} matches no combination of facts")
