"""Verifying the consent ledger: records/s, and memory that stays flat as the chain grows.

Builds a hash-chained ledger by bulk-inserting precomputed records (``chain_hash``, as
``append`` computes them), verifies it at a tenth of ``--records`` and again at the full size,
each time in a fresh process that reports its peak RSS before and after ``verify``. Streaming
keeps the peak flat: the ratio of the two peaks should be ~1 while the time grows ~10x. A
control verifies the small ledger in a single batch, to show what not streaming would cost.

    python bench/ledger_verify.py [--records 1000000] [--batch 5000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

SQLite runs in a temporary file; with ``--database-url`` a scratch PostgreSQL database is
created next to the one named, and dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text, update  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402

from lti_tool.consent import ledger  # noqa: E402
from lti_tool.consent.models import LedgerHead, LedgerKind, LedgerRecord  # noqa: E402
from lti_tool.db import make_engine  # noqa: E402

INSERT_BATCH = 10_000
START = dt.datetime(2027, 3, 15, 8, 0, tzinfo=dt.UTC)
KINDS = (LedgerKind.ASKED, LedgerKind.ANSWERED, LedgerKind.REMINDED, LedgerKind.ANSWERED)


@contextmanager
def scratch_database(database_url: str | None, prefix: str) -> Iterator[str]:
    """A new, migrated database: a temporary SQLite file, or (``database_url``) a PostgreSQL
    database created next to the one named; removed afterwards."""
    from lti_tool.migrations import upgrade

    if database_url is None:
        tmp = Path(tempfile.mkdtemp(prefix=prefix))
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        admin_url = make_url(database_url)
        name = f"{prefix.replace('-', '_')}{os.getpid()}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        if database_url is None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def record_fields(seq: int) -> dict[str, Any]:
    """The hashed fields of record ``seq``: a course's asks, answers and reminders."""
    kind = KINDS[seq % len(KINDS)]
    request_id = seq // len(KINDS) + 1
    person = request_id % 300 + 1
    return {
        "seq": seq,
        "recorded_at": START + dt.timedelta(milliseconds=seq),
        "kind": kind,
        "registration_id": 1,
        "course_id": request_id % 50 + 1,
        "item_ids": [request_id % 1000 + 1],
        "request_id": request_id,
        "subject": f"person:{person}",
        "actor": f"person:{person}" if kind is LedgerKind.ANSWERED else "person:1",
        "answered_by": "self" if kind is LedgerKind.ANSWERED else "staff",
        "method": "lms" if kind is LedgerKind.ANSWERED else "tool",
        "answer": ("yes" if seq % 3 else "no") if kind is LedgerKind.ANSWERED else None,
        "text_hash": "ab" * 32 if kind is LedgerKind.ANSWERED else None,
        "pack_version": "2026.1",
        "purpose": "wider-audience",
        "audience": "institution",
        "details": {"language": "nl"} if kind is LedgerKind.ANSWERED else {},
    }


def extend(engine: Engine, upto: int) -> tuple[int, float]:
    """Append records until the ledger holds ``upto``; returns (records added, seconds)."""
    started = time.perf_counter()
    with engine.begin() as conn:
        head = conn.execute(text("SELECT seq, hash FROM consent_ledger_head WHERE id = 1")).first()
    seq, prev = (0, ledger.GENESIS) if head is None else (int(head[0]), str(head[1]))
    first, has_head = seq + 1, head is not None
    while seq < upto:
        rows = []
        for n in range(seq + 1, min(seq + INSERT_BATCH, upto) + 1):
            fields = record_fields(n)
            digest = ledger.chain_hash(prev, fields)
            rows.append({**fields, "prev_hash": prev, "hash": digest})
            prev = digest
        with engine.begin() as conn:
            conn.execute(insert(LedgerRecord), rows)
            values = {"seq": rows[-1]["seq"], "hash": prev}
            if not has_head:
                conn.execute(insert(LedgerHead), {"id": 1, **values})
                has_head = True
            else:
                conn.execute(update(LedgerHead).values(**values))
        seq = rows[-1]["seq"]
    return seq - first + 1, time.perf_counter() - started


def verify_here(url: str, batch: int) -> dict[str, Any]:
    """Verify in this process: the verdict, seconds and peak RSS (KiB) before and after."""
    engine = make_engine(url)
    with engine.connect() as conn:  # connect and load everything before measuring
        conn.execute(text("SELECT count(*) FROM consent_ledger_head"))
        ledger.check_chain([record_fields(1) | {"prev_hash": ledger.GENESIS, "hash": ""}])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        verdict = ledger.verify(conn, batch=batch)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    engine.dispose()
    return {
        "ok": verdict.ok,
        "records": verdict.records,
        "broken_seq": verdict.broken_seq,
        "seconds": seconds,
        "rss_before_kib": before,
        "rss_after_kib": after,
    }


def verify_in_child(url: str, batch: int) -> dict[str, Any]:
    """``verify_here`` in a fresh process, so that building the ledger does not raise the
    peak RSS being measured."""
    out = subprocess.run(
        [sys.executable, __file__, "--child-verify", url, "--batch", str(batch)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def report(found: dict[str, Any]) -> None:
    before, after = found["rss_before_kib"] / 1024, found["rss_after_kib"] / 1024
    rate = found["records"] / found["seconds"]
    verdict = "ok" if found["ok"] else f"BROKEN at {found['broken_seq']}"
    print(
        f"  verify {found['records']:>9,} records: {verdict}, {found['seconds']:7.2f} s, "
        f"{rate:9,.0f} records/s, peak RSS {after:6.1f} MiB (+{after - before:5.1f} MiB in verify)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000, help="verify's streaming batch")
    parser.add_argument("--database-url", default=None, help="PostgreSQL (default: SQLite)")
    parser.add_argument("--child-verify", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_verify:
        print(json.dumps(verify_here(args.child_verify, args.batch)))
        return

    small = max(1, args.records // 10)
    with scratch_database(args.database_url, "lti-bench-ledger-") as url:
        engine = make_engine(url)
        print(
            f"ledger verify benchmark: db={url.split(':')[0]}, {small:,} then "
            f"{args.records:,} records, verify batch {args.batch:,}"
        )
        results = []
        for size in (small, args.records):
            added, seconds = extend(engine, size)
            print(
                f"  built {added:,} more records in {seconds:.1f} s "
                f"({added / seconds:,.0f} records/s, bulk insert)"
            )
            found = verify_in_child(url, args.batch)
            report(found)
            assert found["ok"] and found["records"] == size, found
            results.append(found)
            if size == small:  # the control: the same ledger read in one piece
                control = verify_in_child(url, small)
                grew = (control["rss_after_kib"] - control["rss_before_kib"]) / 1024
                print(f"  control: {small:,} records in one batch (no streaming): +{grew:.1f} MiB")
        engine.dispose()
    (small_run, large_run) = results
    growth = large_run["records"] / small_run["records"]
    print(
        f"  peak RSS ratio {large_run['rss_after_kib'] / small_run['rss_after_kib']:.2f} "
        f"for {growth:.0f}x the records (bounded memory: target ~1.0)"
    )
    print(
        f"  time ratio     {large_run['seconds'] / small_run['seconds']:.2f} "
        f"for {growth:.0f}x the records (linear: ~{growth:.0f})"
    )


if __name__ == "__main__":
    main()
