"""The ``lti-tool`` command: serve, database, registrations, keys, roster, guideline, demo."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import ToolError
from lti_tool.runtime import Runtime


def _app() -> Flask:
    from lti_tool import create_app

    try:
        return create_app()
    except ToolError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _session() -> Iterator[Session]:
    """An app context and a transaction, committed when the command succeeds."""
    app = _app()
    with app.app_context(), app.extensions["lti_tool"].db.transaction() as session:
        try:
            yield session
        except ToolError as exc:
            raise click.ClickException(str(exc)) from exc


def _rt() -> Runtime:
    """The services of the app whose context is active."""
    rt: Runtime = current_app.extensions["lti_tool"]
    return rt


def _print(data: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    elif isinstance(data, list):
        for row in data:
            click.echo("  ".join(f"{k}={v}" for k, v in row.items()))
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value}")


@click.group()
def main() -> None:
    """lti-tool: lawful lesson recordings and live streams, as an LTI 1.3 tool."""


# --- serving and database ---------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--no-migrate", is_flag=True, help="Do not apply database migrations first.")
def serve(host: str, port: int, workers: int, no_migrate: bool) -> None:
    """Run the tool with gunicorn (several worker processes)."""
    from lti_tool.serving import run_gunicorn

    app = _app()  # fail fast on bad settings, before forking
    if not no_migrate:
        _upgrade(app)
    app.extensions["lti_tool"].db.engine.dispose()
    run_gunicorn(host, port, workers)


def _upgrade(app: Flask) -> None:
    from lti_tool.migrations import upgrade

    upgrade(app.extensions["lti_tool"].db.engine)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations (under a lock; safe with several instances)."""
    _upgrade(_app())
    click.echo("database is up to date")


# --- registrations and deployments -----------------------------------------------------


@main.group()
def registration() -> None:
    """Platform registrations (one per issuer and client_id)."""


def _registration_row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "issuer": r.issuer,
        "client_id": r.client_id,
        "name": r.name,
        "active": r.active,
        "trust_new_deployments": r.trust_new_deployments,
    }


@registration.command("add")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--login-url", required=True, help="Platform OIDC authorization endpoint.")
@click.option("--token-url", required=True, help="Platform OAuth2 token endpoint.")
@click.option("--jwks-url", required=True, help="Platform key set URL.")
@click.option("--audience", default=None, help="aud for client assertions, if not the token URL.")
@click.option("--name", default="")
@click.option("--product", default="", help="canvas, moodle, d2l, ...")
@click.option("--deployment", "deployments", multiple=True, help="Approved deployment id.")
@click.option("--trust-new-deployments", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
def registration_add(as_json: bool, deployments: tuple[str, ...], **opts: Any) -> None:
    """Register a platform by hand (values from its developer key / tool registration page)."""
    from lti_tool.lti.models import DeploymentStatus
    from lti_tool.lti.registrations import add_deployment, add_registration

    with _session() as session:
        r = add_registration(
            session,
            issuer=opts["issuer"],
            client_id=opts["client_id"],
            auth_login_url=opts["login_url"],
            auth_token_url=opts["token_url"],
            jwks_url=opts["jwks_url"],
            auth_audience=opts["audience"],
            name=opts["name"],
            product=opts["product"],
            trust_new_deployments=opts["trust_new_deployments"],
            https_only=_rt().settings.https_only,
        )
        for deployment_id in deployments:
            add_deployment(session, r, deployment_id, DeploymentStatus.APPROVED)
        _audit(session, "registration.added", registration_id=r.id, issuer=r.issuer)
        _print(_registration_row(r), as_json)


@registration.command("list")
@click.option("--json", "as_json", is_flag=True)
def registration_list(as_json: bool) -> None:
    """List registrations."""
    from lti_tool.lti.models import Registration

    with _session() as session:
        rows = [_registration_row(r) for r in session.scalars(select(Registration))]
        _print(rows, as_json)


@registration.command("show")
@click.argument("registration_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def registration_show(registration_id: int, as_json: bool) -> None:
    """Show one registration with its URLs and deployments."""
    from lti_tool.lti.registrations import get_registration

    with _session() as session:
        r = get_registration(session, registration_id)
        row = _registration_row(r) | {
            "login_url": r.auth_login_url,
            "token_url": r.auth_token_url,
            "jwks_url": r.jwks_url,
            "frame_origins": r.frame_origins,
            "deployments": [f"{d.deployment_id} ({d.status})" for d in r.deployments],
        }
        _print(row, as_json)


@registration.command("disable")
@click.argument("registration_id", type=int)
def registration_disable(registration_id: int) -> None:
    """Refuse all further launches from a registration."""
    from lti_tool.lti.registrations import get_registration

    with _session() as session:
        get_registration(session, registration_id).active = False
        _audit(session, "registration.disabled", registration_id=registration_id)
        click.echo(f"registration {registration_id} disabled")


@registration.command("invite")
@click.option("--hours", default=48, show_default=True, type=click.IntRange(1, 24 * 30))
def registration_invite(hours: int) -> None:
    """Make a one-time Dynamic Registration URL to paste into a platform."""
    from lti_tool.lti.dynamic_registration import create_invite

    with _session() as session:
        token = create_invite(session, hours)
        _audit(session, "registration.invited", hours=hours)
        click.echo(f"{_rt().settings.base_url}/lti/register/{token}")


@main.group()
def deployment() -> None:
    """Deployments of registrations (launches from pending ones are refused)."""


@deployment.command("list")
@click.option("--status", type=click.Choice(["pending", "approved", "disabled"]))
@click.option("--json", "as_json", is_flag=True)
def deployment_list(status: str | None, as_json: bool) -> None:
    """List deployments, optionally by status."""
    from lti_tool.lti.models import DeploymentStatus
    from lti_tool.lti.registrations import list_deployments

    with _session() as session:
        rows = [
            {
                "id": d.id,
                "registration": d.registration_id,
                "deployment_id": d.deployment_id,
                "status": str(d.status),
                "first_seen_at": d.first_seen_at.isoformat(),
            }
            for d in list_deployments(session, DeploymentStatus(status) if status else None)
        ]
        _print(rows, as_json)


@deployment.command("approve")
@click.argument("deployment_pk", type=int)
def deployment_approve(deployment_pk: int) -> None:
    """Approve a pending deployment (by the id shown in ``deployment list``)."""
    from lti_tool.lti.models import DeploymentStatus
    from lti_tool.lti.registrations import set_deployment_status

    with _session() as session:
        d = set_deployment_status(session, deployment_pk, DeploymentStatus.APPROVED)
        _audit(
            session,
            "deployment.approved",
            registration_id=d.registration_id,
            deployment_id=d.deployment_id,
        )
        click.echo(f"deployment {d.deployment_id} approved")


# --- keys --------------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """The tool's signing keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Create a new signing key; the previous one stays published until retired."""
    from lti_tool.lti.keys import create_key

    with _session() as session:
        key = create_key(session)
        _audit(session, "keys.rotated", kid=key.kid)
        click.echo(f"new signing key {key.kid}")


@keys.command("retire")
def keys_retire() -> None:
    """Stop publishing every key but the current signing key."""
    from lti_tool.lti.keys import retire_previous

    with _session() as session:
        kids = retire_previous(session)
        _audit(session, "keys.retired", kids=kids)
        click.echo(f"retired {len(kids)} key(s)")


@keys.command("list")
def keys_list() -> None:
    """List published keys, newest (signing) first."""
    from lti_tool.lti.keys import active_keys

    with _session() as session:
        for key in active_keys(session):
            click.echo(f"{key.kid}  created {key.created_at:%Y-%m-%d %H:%M}")


# --- roster ------------------------------------------------------------------------------


@main.group()
def roster() -> None:
    """Course rosters (names and roles)."""


@roster.command("sync")
@click.option("--context", "context_id", required=True, help="The platform's course id.")
@click.option("--registration", "registration_id", type=int, help="Needed if ambiguous.")
def roster_sync(context_id: str, registration_id: int | None) -> None:
    """Fetch the full roster of a course from the platform's names-and-roles service."""
    from lti_tool.access.models import Course
    from lti_tool.access.roster import sync_course

    with _session() as session:
        query = select(Course).where(Course.context_id == context_id)
        if registration_id is not None:
            query = query.where(Course.registration_id == registration_id)
        courses = list(session.scalars(query))
        if len(courses) != 1:
            raise click.ClickException(
                f"{len(courses)} courses have context id {context_id!r}; "
                "name one with --registration"
                if courses
                else f"no course {context_id!r} yet"
            )
        counts = sync_course(session, _rt(), courses[0])
        click.echo(json.dumps(counts))


# --- live streams ------------------------------------------------------------------------


@main.command("nginx-config")
@click.option("--out", type=click.Path(dir_okay=False), help="Write here (mode 0600), not stdout.")
@click.option("--rtmp-listen", default="1935", show_default=True)
@click.option("--http-listen", default="127.0.0.1:8088", show_default=True, help="Signed HLS.")
@click.option("--hls-path", default="/var/lib/lti-tool/hls", show_default=True)
@click.option("--work-dir", help="Own pid, logs, temp files and load_module (tests, demo).")
@click.option("--user", help="The workers' user when nginx starts as root.")
@click.option("--tool-url", help="Where nginx reaches the tool (default: the base URL).")
@click.option(
    "--media-path",
    help="Recordings in local storage, served by signed /media links "
    "(default: <media root>/store when LTI_TOOL_MEDIA_STORAGE=local).",
)
@click.option("--template", is_flag=True, help="Placeholders instead of secrets (deploy/).")
def nginx_config(
    out: str | None,
    rtmp_listen: str,
    http_listen: str,
    hls_path: str,
    work_dir: str | None,
    user: str | None,
    tool_url: str | None,
    media_path: str | None,
    template: bool,
) -> None:
    """The nginx configuration of the built-in live provider (RTMP in, signed HLS out)."""
    from lti_tool.recordings.storage import media_root
    from lti_tool.streams import nginx
    from lti_tool.streams.operations import provider_for

    app = _app()
    settings = app.extensions["lti_tool"].settings
    if media_path is None and settings.media_storage == "local":
        media_path = str(media_root(settings) / "store")
    layout = nginx.NginxLayout(
        rtmp_listen,
        http_listen,
        hls_path,
        work_dir,
        nginx.RTMP_MODULE if work_dir else None,
        user,
        media_path if not template else nginx.PRODUCTION.media_path,
        settings.stream_record_dir if not template else nginx.PRODUCTION.record_path,
    )
    try:
        if template:
            text = nginx.template(layout, tool_url or "http://127.0.0.1:8000")
        else:
            provider = provider_for(settings, app.config["SECRET_KEY"])
            text = nginx.config_for(
                provider, layout, tool_url=tool_url or settings.base_url, origin=settings.base_url
            )
    except (ToolError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if out is None:
        click.echo(text, nl=False)
        return
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


@main.group()
def people() -> None:
    """People known to the tool."""


@people.command("ages")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--registration", "registration_id", required=True, type=int)
def people_ages(csv_file: Any, registration_id: int) -> None:
    """Import birth dates or "under 16" flags (CSV: user_id or email, birth_date, under_16);
    all or nothing, problems listed per line (exit 2)."""
    from lti_tool.access.ages import import_ages
    from lti_tool.institution.queries import today

    with _session() as session:
        report = import_ages(
            session, registration_id, csv_file.read(), actor="cli", today=today(_rt().settings)
        )
        if report.problems:
            click.echo("\n".join(map(str, report.problems)), err=True)
            session.rollback()
            sys.exit(2)
    click.echo(f"updated {report.updated} people")


def _audit(session: Session, kind: str, **data: Any) -> None:
    from lti_tool.audit.operations import record

    record(session, kind, actor="cli", **data)


def _register_subcommands() -> None:
    from lti_tool.consent.cli import consent
    from lti_tool.deletion.cli import audit, graduation, retention, worker
    from lti_tool.demo import demo
    from lti_tool.devlms.cli import devlms
    from lti_tool.jobs.cli import jobs
    from lti_tool.policy.cli import guideline
    from lti_tool.privacy.cli import export_group

    main.add_command(guideline)
    main.add_command(devlms)
    main.add_command(demo)
    main.add_command(consent)
    main.add_command(export_group)
    main.add_command(retention)
    main.add_command(worker)
    main.add_command(graduation)
    main.add_command(audit)
    main.add_command(jobs)


_register_subcommands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
