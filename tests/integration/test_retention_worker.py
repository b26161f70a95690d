"""``lti-tool worker``: sweeps in rounds, runs the background jobs due, stops cleanly on SIGTERM."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.cli import main
from lti_tool.db import Database
from lti_tool.items.models import Item, ItemState
from lti_tool.jobs.models import Job, JobState
from lti_tool.jobs.queue import JobContext, enqueue, handler
from tests.support.deletion import add_item, world

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "LTI_TOOL_DEV": "1",
        "LTI_TOOL_DATABASE_URL": database_url,
        "LTI_TOOL_INSTANCE_PATH": str(tmp_path / "instance"),
        "LTI_TOOL_SECRET_KEY": "test-secret-key-test-secret-key-0123456789",
        "LTI_TOOL_STREAM_MEDIA_DIRS": "",
        "LTI_TOOL_TODAY": "2027-08-01",
    }


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.engine.dispose()


def test_worker_sweeps_and_stops_on_sigterm(env: dict[str, str], db: Database) -> None:
    w = world(db)
    with db.transaction() as session:
        item_id = add_item(session, w, delete_on=dt.date(2027, 7, 31)).id
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "lti_tool.cli", "worker", "--interval", "60"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("sweep 2027-08-01: 1 deleted, 0 failed"), (line, proc.stderr)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)  # mid-pause: it must not wait out the 60 s interval
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "SIGTERM" in out and "worker: stopped" in out
    assert time.monotonic() - started < 20
    with db.transaction() as session:
        assert session.get_one(Item, item_id).state is ItemState.DELETED


def test_worker_once_sweeps_and_runs_the_jobs_due(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    ran: list[dict[str, Any]] = []

    @handler("test-worker-job")
    def _run(session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
        ran.append(payload)

    with db.transaction() as session:
        for n in range(3):
            enqueue(session, "test-worker-job", {"n": n})
    result = CliRunner().invoke(main, ["worker", "--once"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "sweep 2027-08-01: 0 deleted, 0 failed" in result.output
    assert "jobs: 3 ran" in result.output
    assert sorted(p["n"] for p in ran) == [0, 1, 2]
    with db.transaction() as session:
        assert set(session.scalars(select(Job.state))) == {JobState.DONE}


def test_withdrawal_plan_dates_are_carried_out_as_g3_2(db: Database) -> None:
    from lti_tool.consent.models import DeletionPlan
    from lti_tool.deletion.models import Deletion
    from lti_tool.deletion.operations import sweep
    from lti_tool.retention.plans import PlanAction

    w = world(db)
    with db.transaction() as session:
        item = add_item(session, w, rule="G3", retention_rule="G3", delete_on=dt.date(2027, 4, 1))
        session.add(
            DeletionPlan(
                item_id=item.id,
                ledger_seq=1,
                action=PlanAction.REMOVE_NOW,
                removed_from_view_on=dt.date(2027, 3, 25),
                delete_on=dt.date(2027, 4, 1),
            )
        )
    assert sweep(db, dt.date(2027, 4, 1), grace_days=30, erasers=[]).deleted == 1
    with db.transaction() as session:
        assert session.scalars(select(Deletion)).one().retention_rule == "G3.2"
