"""The consent ledger: a gapless hash chain the database keeps append-only, and `verify`
(library and `lti-tool consent verify`) naming the first record that was tampered with."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, delete, event, func, select, text, update
from sqlalchemy.exc import DBAPIError

from lti_tool.cli import main
from lti_tool.consent import ledger
from lti_tool.consent.models import (
    AnsweredBy,
    ConsentScan,
    ConsentText,
    LedgerHead,
    LedgerKind,
    LedgerRecord,
    Method,
)
from lti_tool.db import Database

RECORDS = 6


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.engine.dispose()


def _entry(n: int, kind: LedgerKind = LedgerKind.ANSWERED) -> ledger.Entry:
    return ledger.Entry(
        kind=kind,
        registration_id=1,
        course_id=1,
        item_ids=(n % 3 + 1,),
        subject=f"person:{n}",
        actor=f"person:{n}",
        answered_by=AnsweredBy.SELF,
        method=Method.LMS,
        pack_version="2026.1",
        purpose="wider-audience",
        audience="institution",
        request_id=n,
        answer="yes" if n % 2 else "no",
        text_hash="a" * 64,
        details={"language": "en", "n": n},
    )


def _append(db: Database, count: int, start: int = 1) -> None:
    """``count`` records, a few per transaction."""
    for first in range(start, start + count, 4):
        with db.transaction() as session:
            for n in range(first, min(first + 4, start + count)):
                ledger.append(session, _entry(n))


def _verify(db: Database) -> ledger.Verdict:
    with db.engine.connect() as conn:
        return ledger.verify(conn, batch=2)  # small batches: streaming crosses batch borders


def _chain(db: Database) -> list[tuple[int, str, str]]:
    with db.engine.connect() as conn:
        query = select(LedgerRecord.seq, LedgerRecord.prev_hash, LedgerRecord.hash)
        rows = conn.execute(query.order_by(LedgerRecord.seq))
        return [(r.seq, r.prev_hash, r.hash) for r in rows]


def _head(db: Database) -> tuple[int, str] | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(LedgerHead.seq, LedgerHead.hash)).first()
        return None if row is None else (row.seq, row.hash)


# --- the chain --------------------------------------------------------------------------------


def test_first_append_creates_the_missing_head(db: Database) -> None:
    assert _head(db) is None  # migrated (SQLite) or truncated (PostgreSQL): no head row yet
    _append(db, 2)
    (s1, prev1, h1), (s2, prev2, h2) = _chain(db)
    assert (s1, prev1) == (1, ledger.GENESIS)
    assert (s2, prev2) == (2, h1)
    assert _head(db) == (2, h2)


def test_appends_build_a_gapless_chain_that_verifies(db: Database) -> None:
    _append(db, 25)
    chain = _chain(db)
    assert [seq for seq, _, _ in chain] == list(range(1, 26))
    assert [prev for _, prev, _ in chain] == [ledger.GENESIS] + [h for _, _, h in chain[:-1]]
    assert len({h for _, _, h in chain}) == 25
    assert _head(db) == (25, chain[-1][2])
    assert _verify(db) == ledger.Verdict(records=25)


def test_each_hash_covers_the_record_and_the_one_before(db: Database) -> None:
    _append(db, 2)
    with db.transaction() as session:
        first, second = session.scalars(select(LedgerRecord).order_by(LedgerRecord.seq))
        fields = {name: getattr(second, name) for name in ledger.HASHED}
        assert ledger.chain_hash(first.hash, fields) == second.hash
        assert ledger.chain_hash(ledger.GENESIS, fields) != second.hash
        assert ledger.chain_hash(first.hash, {**fields, "answer": "yes"}) != second.hash


def test_a_rolled_back_append_leaves_no_gap(db: Database) -> None:
    _append(db, 2)
    with pytest.raises(RuntimeError), db.transaction() as session:
        ledger.append(session, _entry(3))
        raise RuntimeError("the request failed after appending")
    _append(db, 1, start=4)
    assert [seq for seq, _, _ in _chain(db)] == [1, 2, 3]
    assert _verify(db) == ledger.Verdict(records=3)


def test_an_empty_ledger_verifies(db: Database) -> None:
    assert _verify(db) == ledger.Verdict(records=0)


def test_verify_is_not_fooled_by_records_appended_while_it_runs(db: Database) -> None:
    """A live system keeps appending: records added after `verify` read the head are not
    evidence of tampering (they are simply not part of what was checked)."""
    _append(db, 3)
    writer = Database(db.url)

    def append_meanwhile(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if re.search(r"FROM consent_ledger\b(?!_head)", statement) and not done:
            done.append(statement)
            with writer.transaction() as session:
                ledger.append(session, _entry(4))

    done: list[str] = []
    try:
        with db.engine.connect() as conn:
            event.listen(conn, "before_cursor_execute", append_meanwhile)
            verdict = ledger.verify(conn)
    finally:
        writer.engine.dispose()
    assert done, "the chain was never read"
    assert verdict.ok, verdict
    assert _verify(db) == ledger.Verdict(records=4)


# --- the database refuses changes -------------------------------------------------------------


def _refused(db: Database, change: Callable[[Any], object]) -> None:
    with (
        pytest.raises(DBAPIError, match=r"append-only|cannot be deleted"),
        db.transaction() as session,
    ):
        change(session)


def test_the_application_cannot_change_or_remove_ledger_records(db: Database) -> None:
    _append(db, 3)
    before = _chain(db)
    _refused(db, lambda s: s.execute(update(LedgerRecord).values(answer="yes")))
    second = update(LedgerRecord).where(LedgerRecord.seq == 2)
    _refused(db, lambda s: s.execute(second.values(hash="f" * 64)))
    _refused(db, lambda s: s.execute(delete(LedgerRecord).where(LedgerRecord.seq == 3)))
    _refused(db, lambda s: s.execute(text("DELETE FROM consent_ledger")))
    _refused(db, lambda s: s.execute(delete(LedgerHead)))
    assert _chain(db) == before
    assert _head(db) == (3, before[-1][2])
    assert _verify(db).ok


def test_consent_texts_and_scans_cannot_be_changed_or_removed(db: Database) -> None:
    with db.transaction() as session:
        session.add(ConsentText(hash="b" * 64, version="request/1", language="en", body="Text"))
        session.add(
            ConsentScan(
                sha256="c" * 64,
                content_type="application/pdf",
                filename="form.pdf",
                content=b"%PDF-1.4",
                uploaded_by="1:t-tess",
            )
        )
    _refused(db, lambda s: s.execute(update(ConsentText).values(body="Another text")))
    _refused(db, lambda s: s.execute(delete(ConsentText)))
    _refused(db, lambda s: s.execute(update(ConsentScan).values(content=b"%PDF-forged")))
    _refused(db, lambda s: s.execute(delete(ConsentScan)))
    with db.transaction() as session:
        assert session.scalars(select(ConsentText.body)).all() == ["Text"]
        assert session.scalars(select(ConsentScan.content)).all() == [b"%PDF-1.4"]


# --- tampering --------------------------------------------------------------------------------


SQLITE_GUARDS = (
    "consent_ledger_no_update",
    "consent_ledger_no_delete",
    "consent_ledger_head_no_delete",
)
PG_GUARDS = (
    ("consent_ledger", "consent_ledger_append_only"),
    ("consent_ledger_head", "consent_ledger_head_no_delete"),
)


@pytest.fixture
def tamper(db: Database, db_kind: str) -> Callable[[str, dict[str, Any]], None]:
    """Run SQL on the ledger as someone who bypasses the append-only triggers: on SQLite by
    dropping them (this test's own copy of the database), on PostgreSQL by disabling them as
    the superuser inside the same transaction (never visible to anyone else)."""

    def run(sql: str, params: dict[str, Any]) -> None:
        with db.engine.begin() as conn:
            if db_kind == "sqlite":
                for trigger in SQLITE_GUARDS:
                    conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
            else:
                for table, trigger in PG_GUARDS:
                    conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            conn.execute(text(sql), params)
            if db_kind != "sqlite":
                for table, trigger in PG_GUARDS:
                    conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")

    return run


def _rechain(db: Database, seq: int) -> tuple[str, dict[str, Any]]:
    """SQL that changes record ``seq`` and gives it the hash its new content chains to."""
    with db.transaction() as session:
        record = session.scalars(select(LedgerRecord).where(LedgerRecord.seq == seq)).one()
        fields = {name: getattr(record, name) for name in ledger.HASHED}
        answer = "no" if record.answer == "yes" else "yes"
        digest = ledger.chain_hash(record.prev_hash, {**fields, "answer": answer})
    return (
        "UPDATE consent_ledger SET answer = :answer, hash = :hash WHERE seq = :seq",
        {"answer": answer, "hash": digest, "seq": seq},
    )


TAMPERING: dict[str, tuple[Callable[[Database], tuple[str, dict[str, Any]]], int, str]] = {
    "first record's content changed": (
        lambda db: ("UPDATE consent_ledger SET answer = 'no' WHERE seq = 1", {}),
        1,
        "content",
    ),
    "middle record's content changed": (
        lambda db: ("UPDATE consent_ledger SET subject = 'person:999' WHERE seq = 3", {}),
        3,
        "content",
    ),
    "middle record's time changed": (
        lambda db: (
            "UPDATE consent_ledger SET recorded_at = :at WHERE seq = 4",
            {"at": "2020-01-01 00:00:00"},
        ),
        4,
        "content",
    ),
    "middle record deleted": (
        lambda db: ("DELETE FROM consent_ledger WHERE seq = 3", {}),
        3,
        "missing",
    ),
    "last record deleted": (
        lambda db: (f"DELETE FROM consent_ledger WHERE seq = {RECORDS}", {}),
        RECORDS,
        "removed",
    ),
    "chain head deleted": (lambda db: ("DELETE FROM consent_ledger_head", {}), RECORDS, "head"),
    "middle record re-chained": (lambda db: _rechain(db, 3), 4, "follow"),
    "last record re-chained": (lambda db: _rechain(db, RECORDS), RECORDS, ""),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_names_the_first_broken_record(
    db: Database, tamper: Callable[[str, dict[str, Any]], None], case: str
) -> None:
    sql, broken, problem = TAMPERING[case]
    _append(db, RECORDS)
    assert _verify(db) == ledger.Verdict(records=RECORDS)
    tamper(*sql(db))
    verdict = _verify(db)
    assert not verdict.ok
    assert verdict.broken_seq == broken, verdict
    assert verdict.records == broken - 1  # the records before it are sound
    assert problem in (verdict.problem or "")


def test_verify_stops_at_the_first_of_several_broken_records(
    db: Database, tamper: Callable[[str, dict[str, Any]], None]
) -> None:
    _append(db, RECORDS)
    tamper("UPDATE consent_ledger SET subject = 'person:0' WHERE seq IN (2, 5)", {})
    tamper("DELETE FROM consent_ledger WHERE seq = 4", {})
    verdict = _verify(db)
    assert (verdict.broken_seq, verdict.records) == (2, 1)


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tool_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "LTI_TOOL_DEV": "1",
        "LTI_TOOL_DATABASE_URL": tool_settings["database_url"],
        "LTI_TOOL_BASE_URL": tool_settings["base_url"],
        "LTI_TOOL_INSTANCE_PATH": tool_settings["instance_path"],
        "LTI_TOOL_SECRET_KEY": tool_settings["secret_key"],
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["consent", "verify", *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.usefixtures("cli_env")
def test_verify_command_passes_a_sound_ledger_and_fails_a_tampered_one(
    db: Database, tamper: Callable[[str, dict[str, Any]], None]
) -> None:
    _append(db, RECORDS)
    code, out = _run()
    assert code == 0, out
    assert f"ledger ok: {RECORDS} records verified" in out
    code, out = _run("--json")
    assert code == 0, out
    assert json.loads(out) | {"seconds": 0} == {
        "ok": True,
        "records": RECORDS,
        "broken_seq": None,
        "problem": None,
        "seconds": 0,
    }

    tamper("UPDATE consent_ledger SET details = :d WHERE seq = 3", {"d": '{"n": 0}'})
    code, out = _run()
    assert code == 1
    assert "ledger BROKEN at record 3" in out, out
    assert "2 records before it are sound" in out
    code, out = _run("--json")
    assert code == 1
    found = json.loads(out)
    assert (found["ok"], found["broken_seq"], found["records"]) == (False, 3, 2)


@pytest.mark.usefixtures("cli_env")
def test_verify_command_notices_a_removed_last_record(
    db: Database, tamper: Callable[[str, dict[str, Any]], None]
) -> None:
    _append(db, RECORDS)
    tamper(f"DELETE FROM consent_ledger WHERE seq = {RECORDS}", {})
    code, out = _run()
    assert code == 1
    assert f"ledger BROKEN at record {RECORDS}" in out, out


def test_tampering_leaves_the_triggers_in_place(
    db: Database, tamper: Callable[[str, dict[str, Any]], None], db_kind: str
) -> None:
    """The PostgreSQL database is shared by the tests of a worker: disabling the trigger must
    not outlive the tampering transaction."""
    if db_kind == "sqlite":
        pytest.skip("SQLite tampering drops the triggers of this test's own database copy")
    _append(db, 2)
    tamper("UPDATE consent_ledger SET answer = 'no' WHERE seq = 1", {})
    _refused(db, lambda s: s.execute(update(LedgerRecord).values(answer="yes")))
    with db.engine.connect() as conn:
        enabled = conn.scalar(
            select(func.count())
            .select_from(text("pg_trigger"))
            .where(text("tgname = 'consent_ledger_append_only' AND tgenabled = 'O'"))
        )
    assert enabled == 1
