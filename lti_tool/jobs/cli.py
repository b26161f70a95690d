"""``lti-tool jobs``: run background jobs (conversions, expired uploads) and list them."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import click
from sqlalchemy import func, select


@click.group()
def jobs() -> None:
    """Background jobs (media conversion, expired uploads)."""


@jobs.command("run")
@click.option("--once", is_flag=True, help="Run what is due now, then stop.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
def run(once: bool, limit: int, interval: float) -> None:
    """Run due jobs: once, or in a loop until SIGTERM / Ctrl-C."""
    from lti_tool import create_app
    from lti_tool.jobs.queue import run_pending

    rt = create_app().extensions["lti_tool"]
    stop = False

    def _stop(_signum: int, _frame: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    total = 0
    try:
        while True:
            ran = run_pending(rt.db.sessions, limit, settings=rt.settings)
            total += ran
            if once or stop:
                break
            if ran == 0:
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    click.echo(f"ran {total} job(s)")


@jobs.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_jobs(as_json: bool) -> None:
    """How many jobs there are per kind and state; failed ones with their last error."""
    from lti_tool import create_app
    from lti_tool.jobs.models import Job, JobState

    rt = create_app().extensions["lti_tool"]
    with rt.db.transaction() as session:
        counts = session.execute(
            select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state)
        ).all()
        failed = session.execute(
            select(Job.id, Job.kind, Job.last_error).where(Job.state == JobState.FAILED)
        ).all()
    data = {
        "counts": [{"kind": k, "state": s.value, "count": n} for k, s, n in counts],
        "failed": [{"id": i, "kind": k, "error": e} for i, k, e in failed],
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for row in data["counts"]:
        click.echo(f"{row['kind']:<32} {row['state']:<8} {row['count']}")
    for row in data["failed"]:
        click.echo(f"failed #{row['id']} {row['kind']}: {row['error']}")
