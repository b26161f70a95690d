"""Read the self-submitting form of a platform page, for tests that drive launches by HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class AutoSubmitForm:
    """The ``#autosubmit`` form: where it goes, how, and its hidden fields."""

    action: str = ""
    method: str = "get"
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form: AutoSubmitForm | None = None
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and values.get("id") == "autosubmit":
            self.form = AutoSubmitForm(values.get("action", ""), values.get("method", "get"))
            self._inside = True
        elif tag == "input" and self._inside and self.form is not None and "name" in values:
            self.form.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def parse_autosubmit_form(html: str) -> AutoSubmitForm:
    """The self-submitting form in ``html``; ValueError when the page has none."""
    parser = _FormParser()
    parser.feed(html)
    if parser.form is None:
        raise ValueError("the page has no self-submitting form")
    return parser.form
