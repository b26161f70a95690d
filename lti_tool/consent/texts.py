"""The text of a consent request, in Dutch and English: pure, versioned, hashed.

What a person consents to is exactly this text; the ledger records its sha256 and
``TEXT_VERSION``. Change the wording here only with a new version. Texts never name the
person asked (they are kept as long as the ledger), only the item, its course and the school.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

TEXT_VERSION = "request/1"
LANGUAGES = ("nl", "en")

_MADE = {
    "stream": {"nl": "een livestream", "en": "a live stream"},
    "recording": {"nl": "een opname", "en": "a recording"},
    "stream+recording": {
        "nl": "een livestream die ook wordt opgenomen",
        "en": "a live stream that is also recorded",
    },
}
_PURPOSE = {
    "assessment": {"nl": "het beoordelen van werk van studenten", "en": "assessing students' work"},
    "remote-lesson": {
        "nl": "een les op afstand laten doorgaan",
        "en": "keeping a lesson going remotely",
    },
    "wider-audience": {
        "nl": "gebruik buiten de klas (communicatie of lesmateriaal voor anderen)",
        "en": "use beyond the class (communication or teaching material for others)",
    },
    "instruction": {"nl": "instructie door de docent", "en": "the teacher's instruction"},
    "exam-content": {"nl": "toets- of examenstof", "en": "exam or test content"},
}
_AUDIENCE = {
    "assessed": {
        "nl": "alleen de beoordeelde student(en) en de beoordelaars",
        "en": "only the assessed student(s) and the assessors",
    },
    "class": {"nl": "de klas of lesgroep", "en": "the class or lesson group"},
    "intervision": {"nl": "een intervisiegroep", "en": "an intervision group"},
    "cohort": {"nl": "de studenten van dit studiejaar", "en": "this year's cohort of students"},
    "institution": {"nl": "iedereen binnen de school", "en": "everyone within the school"},
    "public": {"nl": "iedereen, ook buiten de school", "en": "anyone, also outside the school"},
}
_SENTENCES = {
    "title": {"nl": "Toestemmingsverzoek: {title}", "en": "Request for consent: {title}"},
    "intro": {
        "nl": "Voor de cursus {course} wordt {made} “{title}” gemaakt waarin jij herkenbaar "
        "bent. Ben je ouder of verzorger van een student jonger dan 16, dan gaat het om je kind.",
        "en": "For the course {course}, {made} “{title}” is made in which you can be "
        "recognised. If you are the parent or guardian of a student under 16, it is about "
        "your child.",
    },
    "purpose": {
        "nl": "Doel (één doel): {purpose}. Je toestemming geldt alleen voor dit doel.",
        "en": "Purpose (one purpose only): {purpose}. Your consent covers this purpose only.",
    },
    "audience": {"nl": "Wie het ziet: {audience}.", "en": "Who will see it: {audience}."},
    "period": {
        "nl": "Hoe lang: uiterlijk tot {until}; eerder verwijderd als je je toestemming intrekt.",
        "en": "How long: until {until} at the latest; deleted sooner if you withdraw consent.",
    },
    "free": {
        "nl": "Je mag weigeren zonder reden. Weigeren heeft geen gevolgen voor je studie of "
        "je cijfers.",
        "en": "You may refuse without giving a reason. Refusing has no consequences for your "
        "studies or grades.",
    },
    "withdraw": {
        "nl": "Je kunt je toestemming altijd intrekken, even makkelijk als je die gaf. Wat al "
        "voor dit studiejaar in gebruik is, mag dan tot het einde van het studiejaar blijven; "
        "al het andere wordt direct onzichtbaar en daarna verwijderd.",
        "en": "You can withdraw consent at any time, as easily as you gave it. What is already "
        "in use for this school year may then stay until the end of the school year; "
        "everything else is hidden at once and then deleted.",
    },
    "controller": {
        "nl": "Verantwoordelijk (verwerkingsverantwoordelijke): {controller}. Vragen? "
        "Privacyfunctionaris: {contact}.",
        "en": "Responsible (controller): {controller}. Questions? Privacy officer: {contact}.",
    },
    "guideline": {
        "nl": "Dit valt onder regel {rule} van {pack} (versie {version}).",
        "en": "This falls under rule {rule} of {pack} (version {version}).",
    },
}
_SCHOOL = {"nl": "de school die deze cursus aanbiedt", "en": "the school offering this course"}


@dataclass(frozen=True)
class RequestFacts:
    """What a request text says about its item (no person is named)."""

    course: str
    title: str
    made: str
    purpose: str
    audience: str
    until: date
    controller: str
    contact: str
    rule: str
    pack_name: str
    pack_version: str


def request_text(facts: RequestFacts, language: str) -> str:
    """The request in ``language`` ('nl' or 'en'), paragraphs separated by blank lines."""
    if language not in LANGUAGES:
        raise ValueError(f"no request text in {language!r}")
    values = {
        "course": facts.course,
        "title": facts.title,
        "made": _MADE[facts.made][language],
        "purpose": _PURPOSE[facts.purpose][language],
        "audience": _AUDIENCE[facts.audience][language],
        "until": facts.until.isoformat(),
        "controller": facts.controller or _SCHOOL[language],
        "contact": facts.contact,
        "rule": facts.rule,
        "pack": facts.pack_name,
        "version": facts.pack_version,
    }
    return "\n\n".join(sentence[language].format(**values) for sentence in _SENTENCES.values())


def text_hash(body: str) -> str:
    """sha256 hex of a text exactly as shown."""
    return hashlib.sha256(body.encode()).hexdigest()
