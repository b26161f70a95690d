"""Why a CSV import of the school's records (ages, graduation dates) stopped: one problem per
line, an English message with its values, translated where a page shows it and printed as is
by the command line."""

from __future__ import annotations

from dataclasses import dataclass, field

from lti_tool.errors import _

NOT_UTF8 = _("The file is not UTF-8 text.")
NOBODY = _("nobody known as %(who)s")
NOT_A_DATE = _("%(column)s %(value)s is not a date like 2011-12-31")
IMPLAUSIBLE = _("%(column)s %(value)s is not a plausible date")


@dataclass(frozen=True)
class Problem:
    """One reason an import stopped; ``line`` 0 means the file or its header."""

    line: int
    message: str
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        text = self.message % self.params if self.params else self.message
        return f"line {self.line}: {text}" if self.line else text
