"""The current state of requests and objections, derived from the ledger (never stored).

A request's state is its newest answer, withdrawal or "made unrecognisable" record; a later
record wins (ledger order). Queries take a subquery of request ids so a course overview costs
the same few statements whatever its size.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from lti_tool.consent.models import ConsentRequest, LedgerKind, LedgerRecord


class RequestState(enum.StrEnum):
    PENDING = "pending"
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    UNRECOGNISABLE = "unrecognisable"


_DECISIVE = (LedgerKind.ANSWERED, LedgerKind.WITHDRAWN, LedgerKind.UNRECOGNISABLE)
_TRACKED = (*_DECISIVE, LedgerKind.CONFIRMED, LedgerKind.REMINDED)


@dataclass(frozen=True)
class Status:
    """Where one request stands: ``record`` is the newest decisive ledger record (None while
    nobody answered), ``confirmed`` a later confirmation by the student who turned 16."""

    state: RequestState
    record: LedgerRecord | None = None
    confirmed: LedgerRecord | None = None
    reminded_at: dt.datetime | None = None

    @property
    def answered_by(self) -> str | None:
        return None if self.record is None else self.record.answered_by

    @property
    def at(self) -> dt.datetime | None:
        return None if self.record is None else self.record.recorded_at


PENDING = Status(RequestState.PENDING)


def _state(kind: LedgerKind | None, answer: str | None) -> RequestState:
    """The state a request is in when its newest decisive record has ``kind`` and ``answer``."""
    if kind is None:
        return RequestState.PENDING
    if kind is LedgerKind.WITHDRAWN:
        return RequestState.WITHDRAWN
    if kind is LedgerKind.UNRECOGNISABLE:
        return RequestState.UNRECOGNISABLE
    return RequestState.GIVEN if answer == "yes" else RequestState.REFUSED


def statuses(session: Session, request_ids: Select[Any]) -> dict[int, Status]:
    """The status of each request in ``request_ids`` (a select of ids); absent ids are pending.

    One statement: the records that are the newest of their request and kind (a join on the
    newest seq, so the size of the course never turns into a list of bound parameters).
    """
    newest = (
        select(func.max(LedgerRecord.seq).label("seq"))
        .where(LedgerRecord.request_id.in_(request_ids), LedgerRecord.kind.in_(_TRACKED))
        .group_by(LedgerRecord.request_id, LedgerRecord.kind)
        .subquery()
    )
    by_request: dict[int, dict[LedgerKind, LedgerRecord]] = {}
    for record in session.scalars(
        select(LedgerRecord).join(newest, LedgerRecord.seq == newest.c.seq)
    ):
        if record.request_id is not None:
            by_request.setdefault(record.request_id, {})[record.kind] = record
    return {request_id: _status(found) for request_id, found in by_request.items()}


def counts_per_item(session: Session, item_ids: Select[Any]) -> dict[int, Counter[str]]:
    """How many requests of each item in ``item_ids`` stand in each state, counted by the
    database (one statement; the ledger records themselves are never loaded)."""
    newest = (
        select(LedgerRecord.request_id, func.max(LedgerRecord.seq).label("seq"))
        .join(ConsentRequest, ConsentRequest.id == LedgerRecord.request_id)
        .where(ConsentRequest.item_id.in_(item_ids), LedgerRecord.kind.in_(_DECISIVE))
        .group_by(LedgerRecord.request_id)
        .subquery()
    )
    rows = session.execute(
        select(ConsentRequest.item_id, LedgerRecord.kind, LedgerRecord.answer, func.count())
        .select_from(ConsentRequest)
        .outerjoin(newest, newest.c.request_id == ConsentRequest.id)
        .outerjoin(LedgerRecord, LedgerRecord.seq == newest.c.seq)
        .where(ConsentRequest.item_id.in_(item_ids))
        .group_by(ConsentRequest.item_id, LedgerRecord.kind, LedgerRecord.answer)
    )
    counts: dict[int, Counter[str]] = {}
    for item_id, kind, answer, count in rows:
        counts.setdefault(item_id, Counter())[_state(kind, answer).value] += count
    return counts


def _status(found: dict[LedgerKind, LedgerRecord]) -> Status:
    decisive = max((found[k] for k in _DECISIVE if k in found), key=lambda r: r.seq, default=None)
    reminded = found.get(LedgerKind.REMINDED)
    confirmed = found.get(LedgerKind.CONFIRMED)
    if confirmed is not None and (decisive is None or confirmed.seq < decisive.seq):
        confirmed = None
    return Status(
        RequestState.PENDING if decisive is None else _state(decisive.kind, decisive.answer),
        decisive,
        confirmed,
        None if reminded is None else reminded.recorded_at,
    )


def objectors(session: Session, course_id: int, item_ids: Iterable[int]) -> dict[int, set[str]]:
    """Per item, the subjects (``person:<id>``) whose newest objection record is an objection."""
    wanted = set(item_ids)
    newest: dict[tuple[int, str], LedgerKind] = {}
    rows = session.execute(
        select(LedgerRecord.item_ids, LedgerRecord.subject, LedgerRecord.kind)
        .where(
            LedgerRecord.course_id == course_id,
            LedgerRecord.kind.in_([LedgerKind.OBJECTED, LedgerKind.OBJECTION_WITHDRAWN]),
        )
        .order_by(LedgerRecord.seq)
    )
    for item_list, subject, kind in rows:
        for item_id in item_list:
            if item_id in wanted:
                newest[(item_id, subject)] = kind
    found: dict[int, set[str]] = {item_id: set() for item_id in wanted}
    for (item_id, subject), kind in newest.items():
        if kind is LedgerKind.OBJECTED:
            found[item_id].add(subject)
    return found
