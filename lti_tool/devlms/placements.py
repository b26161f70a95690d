"""Resource links that teachers placed in a course through deep linking."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field

from lti_tool.devlms.store import JsonStore

_DOC = "placements"


@dataclass(frozen=True)
class Placement:
    """An ``ltiResourceLink`` content item stored as a resource link of a course.

    ``url`` is None when the tool gave none: launches then use the tool's target_link_uri.
    """

    id: str
    course_id: str
    client_id: str
    title: str
    url: str | None = None
    text: str = ""
    custom: dict[str, str] = field(default_factory=dict)


class PlacementStore:
    """Placements per course, persisted in ``placements.json``."""

    def __init__(self, store: JsonStore) -> None:
        self._store = store
        self._doc: dict[str, list[dict[str, object]]] = store.load(_DOC, {})

    def in_course(self, course_id: str) -> list[Placement]:
        return [Placement(**p) for p in self._doc.get(course_id, [])]  # type: ignore[arg-type]

    def get(self, placement_id: str) -> Placement | None:
        for items in self._doc.values():
            for p in items:
                if p["id"] == placement_id:
                    return Placement(**p)  # type: ignore[arg-type]
        return None

    def add(
        self,
        course_id: str,
        client_id: str,
        *,
        title: str,
        url: str | None,
        text: str,
        custom: dict[str, str],
    ) -> Placement:
        placement = Placement(
            id=f"pl-{secrets.token_hex(4)}",
            course_id=course_id,
            client_id=client_id,
            title=title,
            url=url,
            text=text,
            custom=custom,
        )
        with self._store.lock:
            self._doc.setdefault(course_id, []).append(asdict(placement))
            self._store.save(_DOC, self._doc)
        return placement
