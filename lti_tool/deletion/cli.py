"""``lti-tool retention sweep``, ``lti-tool worker``, ``lti-tool graduation import`` and
``lti-tool audit verify``."""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
import threading
import time
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

EXIT_DATABASE = 3

JOB_POLL_SECONDS = 2.0  # how soon a queued job (a recording to convert) is picked up


def _app() -> Flask:
    from lti_tool import create_app
    from lti_tool.errors import ToolError

    try:
        return create_app()
    except ToolError as exc:
        raise click.ClickException(str(exc)) from exc


def _today(app: Flask, given: dt.datetime | None) -> dt.date:
    from lti_tool.institution.queries import today

    return given.date() if given is not None else today(app.extensions["lti_tool"].settings)


def _prepare(app: Flask) -> None:
    from lti_tool.deletion.erasers import install_defaults

    install_defaults(app.extensions["lti_tool"].settings)


def _database_failed(exc: SQLAlchemyError) -> None:
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    click.echo(
        f"sweep stopped: the database failed ({type(exc).__name__}: {first}). Items finished so "
        "far stay finished; run the sweep again to continue.",
        err=True,
    )
    sys.exit(EXIT_DATABASE)


@click.group()
def retention() -> None:
    """Deleting items on their date."""


@retention.command("sweep")
@click.option("--dry-run", is_flag=True, help="List what is due; change nothing.")
@click.option("--limit", type=click.IntRange(1), help="Handle at most this many items.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="The date to sweep for.")
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON.")
def sweep_command(
    dry_run: bool, limit: int | None, today: dt.datetime | None, as_json: bool
) -> None:
    """Delete every item whose date has come (one per transaction; safe to run at once on
    several machines and to run again). Exit 1 if a deletion failed, 3 if the database did."""
    from lti_tool.db import utcnow
    from lti_tool.deletion import operations

    app = _app()
    day = _today(app, today)
    rt = app.extensions["lti_tool"]
    try:
        if dry_run:
            with rt.db.transaction() as session:
                items = operations.due_items(session, day, utcnow(), limit)
                rows = [
                    {"item": i.id, "course": i.course_id, "rule": i.rule, "due": str(i.delete_on)}
                    for i in items
                ]
            if as_json:
                click.echo(json.dumps({"today": day.isoformat(), "due": rows}))
            else:
                for row in rows:
                    click.echo("due: item {item} (course {course}, {rule}, {due})".format(**row))
                click.echo(f"dry run {day}: {len(rows)} items due, nothing deleted")
            return
        _prepare(app)
        with rt.db.transaction() as session:
            total = operations.count_due(session, day, utcnow())
        if limit is not None:
            total = min(total, limit)
        settings = rt.settings
        if sys.stdout.isatty() and not as_json:
            with click.progressbar(length=total, label=f"sweep {day}") as bar:
                summary = operations.sweep(
                    rt.db,
                    day,
                    grace_days=settings.review_grace_days,
                    limit=limit,
                    on_item=lambda _o: bar.update(1),
                )
        else:
            summary = operations.sweep(
                rt.db, day, grace_days=settings.review_grace_days, limit=limit
            )
    except SQLAlchemyError as exc:
        _database_failed(exc)
        return
    failed = [o for o in summary.outcomes if o.error]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "today": day.isoformat(),
                    "deleted": summary.deleted,
                    "failed": [{"item": o.item_id, "error": o.error} for o in failed],
                }
            )
        )
    else:
        for outcome in failed:
            click.echo(f"failed: item {outcome.item_id}: {outcome.error}", err=True)
        click.echo(
            f"sweep {day}: {summary.deleted} deleted, {summary.failed} failed (retried later)"
        )
    if failed:
        sys.exit(1)


@click.command()
@click.option("--interval", type=click.IntRange(5, 86400), help="Seconds between sweeps.")
@click.option("--once", is_flag=True, help="One sweep and the jobs due, then stop (cron).")
def worker(interval: int | None, once: bool) -> None:
    """Run retention sweeps every ``--interval`` seconds and background jobs (recordings to
    convert, expired uploads) as they come, until SIGTERM or SIGINT; a signal lets the item
    or job in hand finish first."""
    from lti_tool.deletion import operations
    from lti_tool.jobs.queue import run_pending

    app = _app()
    rt = app.extensions["lti_tool"]
    pause = interval or rt.settings.worker_interval_seconds
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        click.echo(f"worker: {signal.Signals(signum).name}, stopping after the current item")
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    _prepare(app)
    next_sweep = time.monotonic()
    while not stop.is_set():
        if time.monotonic() >= next_sweep:
            day = _today(app, None)
            try:
                summary = operations.sweep(
                    rt.db, day, grace_days=rt.settings.review_grace_days, should_stop=stop.is_set
                )
                click.echo(f"sweep {day}: {summary.deleted} deleted, {summary.failed} failed")
            except SQLAlchemyError as exc:
                click.echo(
                    f"sweep failed: database error ({type(exc).__name__}); next round retries",
                    err=True,
                )
            next_sweep = time.monotonic() + pause
        ran = 0
        try:
            while not stop.is_set() and (
                batch := run_pending(rt.db.sessions, settings=rt.settings)
            ):
                ran += batch
        except SQLAlchemyError as exc:
            click.echo(f"jobs failed: database error ({type(exc).__name__})", err=True)
        if ran:
            click.echo(f"jobs: {ran} ran")
        if once:
            break
        stop.wait(min(JOB_POLL_SECONDS, max(0.0, next_sweep - time.monotonic())))
    click.echo("worker: stopped")


@click.group()
def graduation() -> None:
    """Students' graduation (diploma) dates."""


@graduation.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--registration", "registration_id", required=True, type=int)
def graduation_import(csv_file: Any, registration_id: int) -> None:
    """Import graduation dates (CSV: user_id or email, graduation_date); all or nothing, with
    problems and unknown students listed per line (exit 2). G1 material of students whose
    classmates' dates are all known is then scheduled for graduation + 2 years."""
    from lti_tool.deletion.graduation import import_graduations

    app = _app()
    rt = app.extensions["lti_tool"]
    with rt.db.transaction() as session:
        report = import_graduations(
            session, registration_id, csv_file.read(), actor="cli", today=_today(app, None)
        )
        if not report.ok:
            click.echo("\n".join(map(str, report.problems + report.unknown)), err=True)
            session.rollback()
            sys.exit(2)
    click.echo(f"updated {report.updated} students; {len(report.rescheduled)} items rescheduled")


@click.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="The date to check for.")
@click.option("--json", "as_json", is_flag=True)
def audit_verify(today: dt.datetime | None, as_json: bool) -> None:
    """Check that every item past its date is deleted (with its audit record) or has a
    recorded failure being retried; exit 1 naming the offenders."""
    from lti_tool.db import utcnow
    from lti_tool.deletion.queries import verify

    app = _app()
    rt = app.extensions["lti_tool"]
    day = _today(app, today)
    with rt.db.transaction() as session:
        offenders = verify(session, day, utcnow(), grace_days=rt.settings.review_grace_days)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "today": day.isoformat(),
                    "ok": not offenders,
                    "offenders": [o.to_json() for o in offenders],
                }
            )
        )
    else:
        for o in offenders:
            click.echo(f"item {o.item_id} (course {o.course_id}): {o.problem} ({o.date})", err=True)
        click.echo(f"audit {day}: " + ("ok" if not offenders else f"{len(offenders)} offenders"))
    if offenders:
        sys.exit(1)
