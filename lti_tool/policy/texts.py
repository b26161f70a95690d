"""User-facing texts: every text of a pack exists in Dutch and English."""

from __future__ import annotations

from dataclasses import dataclass

LOCALES = ("nl", "en")


@dataclass(frozen=True)
class Text:
    """One text in each locale of the product."""

    nl: str
    en: str

    def get(self, locale: str) -> str:
        """The text for ``locale`` ("nl", "en", or a tag like "nl-NL"); other languages get en."""
        language = locale.replace("_", "-").split("-")[0].lower()
        return self.nl if language == "nl" else self.en

    def to_json(self) -> dict[str, str]:
        """The texts by locale."""
        return {"nl": self.nl, "en": self.en}
