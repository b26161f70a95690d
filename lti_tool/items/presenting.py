"""A decision (as ``Decision.to_json()`` or as stored on an item) in one language, with the
pack's texts, for pages. Pure: no Flask, no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from lti_tool.policy import Pack, Text


@dataclass(frozen=True)
class Cited:
    """A text with the rule or condition id it rests on."""

    cite: str
    text: str


@dataclass(frozen=True)
class RetentionView:
    kind: str
    rule: str
    text: str
    delete_on: date | None
    review_on: date | None
    years_after_graduation: int | None


@dataclass(frozen=True)
class DecisionView:
    """Everything a page shows of a decision, in ``locale``."""

    outcome: str
    rule: str | None
    title: str
    summary: str
    legal_basis: str
    conditions: tuple[Cited, ...]
    consent_from: tuple[str, ...]
    visibility: str
    retention: RetentionView | None
    reasons: tuple[Cited, ...]
    pack_version: str

    @property
    def refused(self) -> bool:
        return self.outcome == "refused"


def _text(raw: Mapping[str, str], locale: str) -> str:
    return Text(nl=raw["nl"], en=raw["en"]).get(locale)


def _day(raw: object) -> date | None:
    return date.fromisoformat(raw) if isinstance(raw, str) else None


def describe(decision: Mapping[str, Any], pack: Pack, locale: str) -> DecisionView:
    """``decision`` in ``locale``; ``pack`` is the pack it was made under."""
    rule_id = decision["rule"]
    rule = pack.rule(rule_id) if rule_id else None
    retention = decision.get("retention")
    return DecisionView(
        outcome=decision["outcome"],
        rule=rule_id,
        title=rule.title.get(locale) if rule else "",
        summary=rule.summary.get(locale) if rule else "",
        legal_basis=pack.text(decision["legal_basis"], locale) if decision["legal_basis"] else "",
        conditions=tuple(Cited(c, pack.text(c, locale)) for c in decision["conditions"]),
        consent_from=tuple(pack.text(c, locale) for c in decision["consent_from"]),
        visibility=pack.text(decision["visibility"], locale) if decision["visibility"] else "",
        retention=None
        if retention is None
        else RetentionView(
            kind=retention["kind"],
            rule=retention["rule"],
            text=_text(retention["text"], locale),
            delete_on=_day(retention["delete_on"]),
            review_on=_day(retention["review_on"]),
            years_after_graduation=retention["years_after_graduation"],
        ),
        reasons=tuple(Cited(r["cite"], _text(r["text"], locale)) for r in decision["reasons"]),
        pack_version=decision["pack_version"],
    )


def has_condition(pack: Pack, condition_id: str) -> bool:
    """Whether ``pack`` defines the condition ``condition_id``."""
    try:
        pack.condition(condition_id)
    except KeyError:
        return False
    return True
