"""The consent ledger: append-only records chained by sha256, and their verification.

Each record's ``hash`` is sha256 over the previous record's hash and the canonical JSON of the
record's own fields (:func:`chain_hash`). Appenders take the chain head with an
``UPDATE ... RETURNING`` on its single row, which locks it until the transaction ends (a row
lock on PostgreSQL, the write lock on SQLite): concurrent appends queue up and the chain never
forks. The database refuses UPDATE and DELETE on the records themselves and DELETE on the
head.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from lti_tool.consent.models import AnsweredBy, LedgerHead, LedgerKind, LedgerRecord, Method
from lti_tool.db import get_or_create, utcnow

GENESIS = "0" * 64
HASHED = (
    "seq",
    "recorded_at",
    "kind",
    "registration_id",
    "course_id",
    "item_ids",
    "request_id",
    "subject",
    "actor",
    "answered_by",
    "method",
    "answer",
    "text_hash",
    "pack_version",
    "purpose",
    "audience",
    "details",
)


@dataclass(frozen=True)
class Entry:
    """What a caller appends; the ledger adds seq, time and hashes."""

    kind: LedgerKind
    registration_id: int
    course_id: int
    item_ids: tuple[int, ...]
    subject: str
    actor: str
    answered_by: AnsweredBy
    method: Method
    pack_version: str
    purpose: str
    audience: str
    request_id: int | None = None
    answer: str | None = None
    text_hash: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def plain(value: Any) -> Any:
    """A field as hashed and exported: enums as their value, datetimes in ISO UTC."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, enum.Enum):
        return value.value
    return value


def chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """sha256 hex of ``prev_hash`` and the canonical JSON of the hashed ``fields``."""
    body = json.dumps(
        {name: plain(fields[name]) for name in HASHED},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _take_head(session: Session) -> tuple[int, str]:
    """Lock the chain head and move it one on: (the new record's seq, the previous hash)."""
    bump = (
        update(LedgerHead)
        .where(LedgerHead.id == 1)
        .values(seq=LedgerHead.seq + 1)
        .returning(LedgerHead.seq, LedgerHead.hash)
    )
    row = session.execute(bump).one_or_none()
    if row is None:
        get_or_create(session, LedgerHead, {"seq": 0, "hash": GENESIS}, id=1)
        row = session.execute(bump).one()
    return int(row.seq), str(row.hash)


def append(session: Session, entry: Entry) -> LedgerRecord:
    """Add ``entry`` at the end of the chain (flushed; committed by the caller)."""
    seq, prev_hash = _take_head(session)
    fields: dict[str, Any] = {
        "seq": seq,
        "recorded_at": utcnow(),
        "kind": entry.kind,
        "registration_id": entry.registration_id,
        "course_id": entry.course_id,
        "item_ids": list(entry.item_ids),
        "request_id": entry.request_id,
        "subject": entry.subject,
        "actor": entry.actor,
        "answered_by": entry.answered_by.value,
        "method": entry.method.value,
        "answer": entry.answer,
        "text_hash": entry.text_hash,
        "pack_version": entry.pack_version,
        "purpose": entry.purpose,
        "audience": entry.audience,
        "details": dict(entry.details),
    }
    digest = chain_hash(prev_hash, fields)
    record = LedgerRecord(**fields, prev_hash=prev_hash, hash=digest)
    session.add(record)
    session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(hash=digest))
    session.flush()
    return record


@dataclass(frozen=True)
class Verdict:
    """What :func:`verify` found: ``broken_seq`` is the first bad record (None when sound)."""

    records: int
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def check_chain(rows: Iterable[Mapping[str, Any]], head: tuple[int, str] | None = None) -> Verdict:
    """Check rows (in seq order) one by one: seq without gaps, each prev_hash the hash before
    it, each hash recomputed; then the last record against the stored ``head``."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            return Verdict(count, expected_seq, f"record {expected_seq} is missing")
        if row["prev_hash"] != expected_prev:
            return Verdict(count, seq, "it does not follow the record before it")
        if chain_hash(row["prev_hash"], row) != row["hash"]:
            return Verdict(count, seq, "its content does not match its hash")
        expected_prev, expected_seq, count = row["hash"], seq + 1, count + 1
    if head is not None and head[0] != count:
        return Verdict(count, count + 1, "the chain ends before its recorded head: removed")
    if head is not None and head[1] != expected_prev:
        return Verdict(count - 1, count, "it does not match the recorded chain head")
    return Verdict(count)


def _rows(conn: Connection, batch: int, upto: int | None) -> Iterator[Mapping[str, Any]]:
    table = LedgerRecord.__table__
    query = select(*(table.c[name] for name in (*HASHED, "prev_hash", "hash"))).order_by(
        table.c.seq
    )
    if upto is not None:
        query = query.where(table.c.seq <= upto)
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
    for row in result:
        yield dict(row._mapping)


def verify(conn: Connection, batch: int = 5000) -> Verdict:
    """Verify the ledger up to the head as it is when the check starts (records appended
    meanwhile are left for the next run), streaming it in ``batch``-sized pieces (bounded
    memory)."""
    head = conn.execute(select(LedgerHead.seq, LedgerHead.hash).where(LedgerHead.id == 1)).first()
    if head is None:
        verdict = check_chain(_rows(conn, batch, None))
        if verdict.ok and verdict.records:
            last = verdict.records
            return Verdict(last - 1, last, "the chain head is missing: removed")
        return verdict
    return check_chain(_rows(conn, batch, head.seq), (head.seq, head.hash))
