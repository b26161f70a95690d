"""Extract translatable strings of some source paths and write (or update) one PO file.

Usage: python scripts/messages.py PO_FILE PATH [PATH ...]
Existing translations in PO_FILE are kept; new msgids get an empty translation (which
``compile_translations.py`` refuses until someone translates them)."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

KEYWORDS = {
    "_": None,
    "gettext": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    # error classes take their reason as first argument (see lti_tool/errors.py)
    **{
        name: None
        for name in (
            "ToolError",
            "BadRequest",
            "Forbidden",
            "Conflict",
            "NotFound",
            "UpstreamError",
            "LaunchError",
            "CookiesBlocked",
            "DeploymentPending",
            "SessionExpired",
        )
    },
    "render_error": (2,),
}
METHODS = [("**.py", "python"), ("**.html", "jinja2")]


def extract(paths: list[str]) -> Catalog:
    catalog = Catalog()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = extract_from_dir(path, METHODS, keywords=KEYWORDS)
            items = (
                (str(path / f), line, msg, comments, ctx) for f, line, msg, comments, ctx in found
            )
        else:
            method = "jinja2" if path.suffix == ".html" else "python"
            items = (
                (str(path), line, msg, comments, ctx)
                for line, msg, comments, ctx in extract_from_file(
                    method, str(path), keywords=KEYWORDS
                )
            )
        for _file, _line, message, _comments, context in items:
            if message:
                catalog.add(message, context=context)
    return catalog


def main(po_file: str, paths: list[str]) -> None:
    target = Path(po_file)
    fresh = extract(paths)
    old = Catalog(locale=target.parent.parent.name)
    if target.exists():
        with target.open("rb") as handle:
            old = read_po(handle)
    out = Catalog(locale=target.parent.parent.name)
    for message in fresh:
        if message.id:
            previous = old.get(message.id, message.context)
            out.add(message.id, previous.string if previous else "", context=message.context)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        write_po(handle, out, omit_header=True, sort_output=True, no_location=True, width=100)
    missing = [m.id for m in out if m.id and not m.string]
    print(f"{target}: {len(out)} messages, {len(missing)} untranslated")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
