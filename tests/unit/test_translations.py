"""Every user-facing string has a Dutch translation, and the merged catalog compiles."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
NL = ROOT / "lti_tool" / "translations" / "nl" / "LC_MESSAGES"


def _load(name: str):  # the scripts are not a package
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sources() -> list[str]:
    """Code and templates users see; the development LMS is a developer's tool (English)."""
    code = [
        p
        for p in (ROOT / "lti_tool").iterdir()
        if p.name not in {"devlms", "translations", "static", "migrations"}
    ]
    templates = [p for p in (ROOT / "templates").iterdir() if p.name != "devlms"]
    return [str(p) for p in code + templates]


def test_every_string_has_a_dutch_translation() -> None:
    extracted = _load("messages").extract(_sources())
    translated: dict[str, str] = {}
    for po in NL.glob("*.po"):
        with po.open("rb") as handle:
            translated.update({m.id: m.string for m in read_po(handle) if m.id and m.string})
    missing = sorted(m.id for m in extracted if m.id and m.id not in translated)
    assert missing == []


def test_catalogs_compile_without_conflicts() -> None:
    assert _load("compile_translations").compile_language(NL) == 0
