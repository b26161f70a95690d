"""What ``evaluate`` returns: the rule that applies, what it requires, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from lti_tool.policy.texts import Text


class Outcome(StrEnum):
    """Whether the item may be set up."""

    ALLOWED = "allowed"
    CONSENT_REQUIRED = "consent-required"
    REFUSED = "refused"


class LegalBasis(StrEnum):
    """The GDPR ground a rule rests on."""

    LEGAL_TASK = "legal-task"
    LEGITIMATE_INTEREST = "legitimate-interest"
    CONSENT = "consent"
    TEACHER_CONSENT = "teacher-consent"


class Consenter(StrEnum):
    """Who is asked for consent."""

    STUDENTS = "students"
    PARENTS_OF_UNDER_16 = "parents-of-under-16"
    GUESTS = "guests"


class Visibility(StrEnum):
    """Who may watch; the access layer enforces each scope."""

    ASSESSED_AND_ASSESSORS = "assessed-and-assessors"
    CLASS_GROUP = "class-group"
    INTERVISION_GROUP = "intervision-group"
    CONSENTED_AUDIENCE = "consented-audience"
    TEACHER_CHOSEN = "teacher-chosen"


class RetentionKind(StrEnum):
    """How an item's life ends: on a date, at a review, after graduation, or with its consent."""

    DELETE_ON = "delete-on"
    REVIEW_ON = "review-on"
    UNTIL_GRADUATION = "until-graduation"
    UNTIL_CONSENT_END = "until-consent-end"


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


@dataclass(frozen=True)
class Reason:
    """Why a decision came out as it did; ``cite`` is the rule or condition id it rests on,
    or ``not-covered`` / ``privacy-officer`` for the pack's refusal texts."""

    cite: str
    text: Text

    def to_json(self) -> dict[str, object]:
        """JSON-ready fields."""
        return {"cite": self.cite, "text": self.text.to_json()}


@dataclass(frozen=True)
class Retention:
    """When the item is deleted or reviewed; ``rule`` is the condition id it comes from.

    ``until-graduation`` has no delete date yet (it is ``years_after_graduation`` after the
    student's diploma date) and a ``review_on`` date until that date is known.
    """

    kind: RetentionKind
    rule: str
    text: Text
    delete_on: date | None = None
    review_on: date | None = None
    years_after_graduation: int | None = None

    def to_json(self) -> dict[str, object]:
        """JSON-ready fields, dates in ISO format."""
        return {
            "kind": self.kind.value,
            "rule": self.rule,
            "delete_on": _iso(self.delete_on),
            "review_on": _iso(self.review_on),
            "years_after_graduation": self.years_after_graduation,
            "text": self.text.to_json(),
        }


@dataclass(frozen=True)
class Decision:
    """The outcome for one set of facts under one pack.

    ``case`` is the id of the pack's decision case that matched (None when none did);
    ``conditions`` are the condition ids the teacher confirms, in the pack's order.
    """

    rule: str | None
    case: str | None
    outcome: Outcome
    legal_basis: LegalBasis | None
    consent_from: tuple[Consenter, ...]
    conditions: tuple[str, ...]
    retention: Retention | None
    visibility: Visibility | None
    pack_version: str
    reasons: tuple[Reason, ...]

    def to_json(self) -> dict[str, object]:
        """JSON-ready fields (enums as their string values, dates in ISO format)."""
        return {
            "rule": self.rule,
            "case": self.case,
            "outcome": self.outcome.value,
            "legal_basis": None if self.legal_basis is None else self.legal_basis.value,
            "consent_from": [consenter.value for consenter in self.consent_from],
            "conditions": list(self.conditions),
            "retention": None if self.retention is None else self.retention.to_json(),
            "visibility": None if self.visibility is None else self.visibility.value,
            "pack_version": self.pack_version,
            "reasons": [reason.to_json() for reason in self.reasons],
        }
