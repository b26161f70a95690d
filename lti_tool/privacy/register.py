"""The register of processing (GDPR art. 30), generated from a guideline pack: one row per
rule with its purpose, legal basis, categories of people, audience and erasure period.

Pure: the pack and the language are passed in; nothing is read or written.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass

from lti_tool.policy import Audience, Pack, Recognisable

COLUMNS = (
    "rule",
    "title",
    "purpose",
    "legal_basis",
    "legal_basis_text",
    "categories_of_people",
    "consent_from",
    "audience",
    "audience_values",
    "erasure_period",
    "erasure_rules",
    "conditions",
)

# How the register names the people who can be recognised, per language.
_PEOPLE = {
    Recognisable.TEACHER: {"nl": "docenten", "en": "teachers"},
    Recognisable.STUDENTS: {"nl": "studenten", "en": "students"},
    Recognisable.GUESTS: {"nl": "gasten en andere medewerkers", "en": "guests and other staff"},
}
_ORDER = {value: index for index, value in enumerate(Audience)}


@dataclass(frozen=True)
class RegisterRow:
    """One processing activity: what a rule of the pack allows."""

    rule: str
    title: str
    purpose: str
    legal_basis: str
    legal_basis_text: str
    categories_of_people: tuple[str, ...]
    consent_from: tuple[str, ...]
    audience: tuple[str, ...]
    audience_values: tuple[str, ...]
    erasure_period: tuple[str, ...]
    erasure_rules: tuple[str, ...]
    conditions: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(self).items()}


def _language(locale: str) -> str:
    return "nl" if locale == "nl" else "en"


def register_rows(pack: Pack, locale: str) -> list[RegisterRow]:
    """One row per rule of ``pack``, texts in ``locale``; the categories, audiences and
    erasure periods are those of the decision cases that apply the rule."""
    lang = _language(locale)
    rows = []
    for rule in pack.rules:
        cases = [c for c in pack.cases if c.ruling is not None and c.ruling.rule.id == rule.id]
        people: set[Recognisable] = set()
        consenters: list[str] = []
        audiences: set[Audience] = set()
        visibility: list[str] = []
        retention: list[str] = []
        retention_rules: list[str] = []
        for case in cases:
            ruling = case.ruling
            assert ruling is not None  # filtered above
            people |= set(Recognisable) - case.when.excludes
            audiences |= case.when.audience
            _add_consenters(pack, ruling.consent_of, lang, consenters)
            seen = pack.visibility[ruling.visibility].get(lang)
            if seen not in visibility:
                visibility.append(seen)
            period = ruling.retention.text.get(lang)
            if period not in retention:
                retention.append(period)
                retention_rules.append(ruling.retention.cite)
        for shared in pack.shared_conditions:
            if rule.id in shared.rules:
                _add_consenters(pack, shared.condition.consent_of, lang, consenters)
        for condition in rule.conditions:
            _add_consenters(pack, condition.consent_of, lang, consenters)
        rows.append(
            RegisterRow(
                rule=rule.id,
                title=rule.title.get(lang),
                purpose=rule.summary.get(lang),
                legal_basis=rule.legal_basis.value,
                legal_basis_text=pack.legal_bases[rule.legal_basis].get(lang),
                categories_of_people=tuple(_PEOPLE[p][lang] for p in Recognisable if p in people),
                consent_from=tuple(consenters),
                audience=tuple(visibility),
                audience_values=tuple(sorted((a.value for a in audiences), key=_audience_order)),
                erasure_period=tuple(retention),
                erasure_rules=tuple(retention_rules),
                conditions=tuple(condition.id for condition in rule.conditions),
            )
        )
    return rows


def _add_consenters(
    pack: Pack, groups: tuple[Recognisable, ...], lang: str, found: list[str]
) -> None:
    for group in groups:
        for consenter in pack.consent_for.get(group, ()):
            text = pack.consenters[consenter].get(lang)
            if text not in found:
                found.append(text)


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted (' prefix)."""
    text = "; ".join(value) if isinstance(value, list) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _audience_order(value: str) -> int:
    return _ORDER[Audience(value)]


def register_json(pack: Pack, locale: str, generated_on: str) -> dict[str, object]:
    """The register as a JSON document: the pack it comes from and its rows."""
    return {
        "register_of_processing": "GDPR art. 30",
        "pack": {"name": pack.name, "version": pack.version, "digest": pack.digest},
        "language": _language(locale),
        "generated_on": generated_on,
        "rows": [row.as_json() for row in register_rows(pack, locale)],
    }


def register_csv(pack: Pack, locale: str) -> str:
    """The register as CSV, one row per rule; lists are joined with "; "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in register_rows(pack, locale):
        data = row.as_json()
        writer.writerow([_cell(data[c]) for c in COLUMNS])
    return out.getvalue()
