"""Reading a parsed pack document node by node, recording every problem with its path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from lti_tool.policy.texts import LOCALES, Text

E = TypeVar("E")
_ABSENT = object()  # the value of a key that is missing (already reported by ``fields``)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a pack: the file, the path inside the document, and what."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class PackError(Exception):
    """A pack did not load; ``problems`` lists everything found wrong, in document order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _kind(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _expected(kind: str, value: object) -> str:
    empty = isinstance(value, list) if kind == "list" else isinstance(value, dict)
    return f"must be a non-empty {kind}, not {'empty' if empty else _kind(value)}"


class Node:
    """A value of the document at ``path``.

    Readers return None (or an empty result) after recording a problem, or silently for a key
    ``fields`` already reported missing, so a reader can read every field and check at the end.
    """

    def __init__(self, value: object, path: str, file: str, problems: list[Problem]) -> None:
        self.value = value
        self.path = path
        self.file = file
        self.problems = problems

    def fail(self, message: str) -> None:
        """Record a problem at this node."""
        self.problems.append(Problem(self.file, self.path, message))

    def at(self, key: str | int) -> Node:
        """The child under ``key`` (a mapping key or list index)."""
        value: object = None
        if isinstance(key, int) and isinstance(self.value, list):
            value = self.value[key]
            path = f"{self.path}[{key}]"
        else:
            if isinstance(self.value, dict):
                value = self.value.get(key)
            path = f"{self.path}.{key}" if self.path else str(key)
        return Node(value, path, self.file, self.problems)

    @property
    def present(self) -> bool:
        """Whether the document holds this node (optional keys may be absent)."""
        return self.value is not _ABSENT

    def fields(self, required: Sequence[str], optional: Sequence[str] = ()) -> Fields:
        """The known keys of a mapping; unknown and missing keys are problems."""
        found = Fields(self)
        if not self.present:
            return found
        if not isinstance(self.value, dict):
            self.fail(f"must be a mapping, not {_kind(self.value)}")
            return found
        allowed = [*required, *optional]
        for key in self.value:
            if key in allowed:
                found[key] = self.at(key)
            else:
                self.at(str(key)).fail(f"unknown key; expected one of: {', '.join(allowed)}")
        for key in required:
            if key not in self.value:
                self.at(key).fail("missing")
        return found

    def entries(self) -> dict[str, Node]:
        """All entries of a non-empty mapping with string keys."""
        if not self.present:
            return {}
        if not isinstance(self.value, dict) or not self.value:
            self.fail(_expected("mapping", self.value))
            return {}
        return {str(key): self.at(str(key)) for key in self.value}

    def items(self) -> list[Node]:
        """The elements of a non-empty list."""
        if not self.present:
            return []
        if not isinstance(self.value, list) or not self.value:
            self.fail(_expected("list", self.value))
            return []
        return [self.at(index) for index in range(len(self.value))]

    def string(self) -> str | None:
        """A non-empty string."""
        if not self.present:
            return None
        if isinstance(self.value, str) and self.value.strip():
            return self.value
        self.fail(f"must be a non-empty string, not {_kind(self.value)}")
        return None

    def integer(self, minimum: int) -> int | None:
        """A whole number of at least ``minimum``."""
        if not self.present:
            return None
        if isinstance(self.value, int) and not isinstance(self.value, bool):
            if self.value >= minimum:
                return self.value
            self.fail(f"must be at least {minimum}, not {self.value}")
            return None
        self.fail(f"must be a whole number, not {_kind(self.value)}")
        return None

    def choice(self, allowed: Sequence[E]) -> E | None:
        """One of ``allowed`` (enum members or ids), given as its string value."""
        if not self.present:
            return None
        for option in allowed:
            if isinstance(self.value, str) and self.value == str(option):
                return option
        names = ", ".join(str(option) for option in allowed)
        shown = repr(self.value) if isinstance(self.value, str) else _kind(self.value)
        self.fail(f"{shown} is not one of: {names}")
        return None

    def choices(self, allowed: Sequence[E]) -> tuple[E, ...] | None:
        """A non-empty list of distinct values from ``allowed``."""
        if not self.present:
            return None
        chosen = [node.choice(allowed) for node in self.items()]
        if not chosen or None in chosen:
            return None
        result = tuple(value for value in chosen if value is not None)
        if len(set(result)) < len(result):
            self.fail("lists a value twice")
            return None
        return result

    def text(self) -> Text | None:
        """A text given in every locale."""
        fields = self.fields(LOCALES)
        nl, en = fields["nl"].string(), fields["en"].string()
        return Text(nl=nl, en=en) if nl is not None and en is not None else None


class Fields(dict[str, Node]):
    """The keys of a mapping node; a key that is not there reads as an absent node."""

    def __init__(self, owner: Node) -> None:
        super().__init__()
        self.owner = owner

    def __missing__(self, key: str) -> Node:
        absent = self.owner.at(key)
        absent.value = _ABSENT
        return absent
