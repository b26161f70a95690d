"""Merge every ``lti_tool/translations/<lang>/LC_MESSAGES/*.po`` into that language's
``messages.mo``. Each area of the code keeps its own PO file; a msgid defined twice with
different translations is an error."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent / "lti_tool" / "translations"


def compile_language(folder: Path) -> int:
    merged = Catalog(locale=folder.parent.name)
    problems = []
    for po_path in sorted(folder.glob("*.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=folder.parent.name)
        for message in catalog:
            if not message.id:
                continue
            existing = merged.get(message.id, message.context)
            if existing is not None and existing.string != message.string:
                problems.append(f"{po_path.name}: {message.id!r} translated differently elsewhere")
                continue
            if not message.string:
                problems.append(f"{po_path.name}: {message.id!r} has no translation")
                continue
            merged.add(message.id, message.string, context=message.context)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, merged)
    print(f"{folder.parent.name}: {len(merged)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(max([compile_language(f) for f in sorted(ROOT.glob("*/LC_MESSAGES"))] or [0]))
