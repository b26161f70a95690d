"""Loading guideline packs: a pack never loads half; every problem is reported at once."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from os import PathLike
from pathlib import Path
from typing import Any

import yaml

from lti_tool.policy.pack import Pack
from lti_tool.policy.reading import Node, PackError, Problem
from lti_tool.policy.schema import read_pack

DEFAULT_PACK_PATH = Path(__file__).parent / "packs" / "default.yaml"


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[str] = set()
    for key_node, _value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if not isinstance(key, str):
            continue
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_pack(path: str | PathLike[str]) -> Pack:
    """Load and validate the pack at ``path``; raises ``PackError`` listing every problem."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PackError([Problem(str(path), "", f"cannot be read: {error}")]) from None
    return parse_pack(content, str(path))


def parse_pack(content: str, source: str) -> Pack:
    """Validate the YAML ``content`` of a pack; ``source`` names it in problems."""
    try:
        document = yaml.load(content, Loader=_UniqueKeyLoader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PackError([Problem(source, where, str(error.problem))]) from None
    except yaml.YAMLError as error:
        raise PackError([Problem(source, "", str(error))]) from None
    problems: list[Problem] = []
    pack = read_pack(Node(document, "", source, problems), _digest(document))
    if problems or pack is None:
        raise PackError(problems)
    return pack


@cache
def default_pack() -> Pack:
    """The pack shipped with the product, encoding the institution's 2020 guideline."""
    return load_pack(DEFAULT_PACK_PATH)


def _digest(document: object) -> str:
    canonical = json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
