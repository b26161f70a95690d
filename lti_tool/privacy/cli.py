"""``lti-tool export ...``: the privacy officer's exports on the command line — everything
about one person (recorded as an access request, GDPR art. 15) and the register of processing
(GDPR art. 30) of a registration's active pack."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import ToolError


def _app() -> Any:
    from lti_tool import create_app

    try:
        return create_app()
    except ToolError as exc:
        raise click.ClickException(str(exc)) from exc


def _registration_ids(session: Session, platform: str, client_id: str | None) -> list[int]:
    from lti_tool.lti.models import Registration

    query = select(Registration.id).where(Registration.issuer == platform.rstrip("/"))
    if client_id:
        query = query.where(Registration.client_id == client_id)
    found = list(session.scalars(query))
    if not found:
        raise click.ClickException(f"no registration of platform {platform!r}")
    return found


def _write(text: str, out: str | None) -> None:
    if out is None or out == "-":
        click.echo(text)
        return
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(text)
    click.echo(f"written to {out}", err=True)


@click.group("export")
def export_group() -> None:
    """Exports for the privacy officer."""


@export_group.command("person")
@click.option("--platform", required=True, help="The platform's issuer URL.")
@click.option("--user", "sub", required=True, help="The person's user id at the platform.")
@click.option("--client-id", default=None, help="When the platform has several registrations.")
@click.option("--format", "fmt", type=click.Choice(["json", "html"]), default="json")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", help="HTML language.")
@click.option("--out", default=None, help="File to write (default: standard output).")
def export_person(
    platform: str, sub: str, client_id: str | None, fmt: str, lang: str, out: str | None
) -> None:
    """Everything the tool holds about one person (recorded as an access request by the
    privacy officer, audited)."""
    from lti_tool.access.models import Person
    from lti_tool.consent.operations import Caller, Context
    from lti_tool.institution.queries import institution_for, today
    from lti_tool.privacy import export
    from lti_tool.privacy import operations as ops

    app = _app()
    rt = app.extensions["lti_tool"]
    with app.app_context(), rt.db.transaction() as session:
        registrations = _registration_ids(session, platform, client_id)
        people = list(
            session.scalars(
                select(Person).where(Person.registration_id.in_(registrations), Person.sub == sub)
            )
        )
        if not people:
            raise click.ClickException(f"no person {sub!r} at {platform!r}")
        if len(people) > 1:
            raise click.ClickException("the platform has several registrations: add --client-id")
        person = people[0]
        settings = rt.settings
        ctx = Context(
            institution_for(session, settings, person.registration_id), settings, today(settings)
        )
        caller = Caller(registration_id=person.registration_id, person=None, audit_actor="cli")
        try:
            by = ops.capacity(session, person, caller, ctx, course=None, officer=True)
            req, data = ops.request_access(session, person, caller, ctx, by)
        except ToolError as exc:
            raise click.ClickException(str(exc)) from exc
        if fmt == "json":
            text = export.export_json(data)
        else:
            with app.test_request_context(f"/?lang={lang}"):
                text = render_template("privacy/export.html", data=data)
        request_id = req.id
    _write(text, out)
    click.echo(f"access request {request_id} recorded and carried out", err=True)


@export_group.command("register")
@click.option("--platform", required=True, help="The platform's issuer URL.")
@click.option("--client-id", default=None, help="When the platform has several registrations.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl")
@click.option("--out", default=None, help="File to write (default: standard output).")
def export_register(
    platform: str, client_id: str | None, fmt: str, lang: str, out: str | None
) -> None:
    """The register of processing (GDPR art. 30) from the registration's active pack."""
    from lti_tool.institution.queries import institution_for, today
    from lti_tool.privacy.register import register_csv, register_json

    app = _app()
    rt = app.extensions["lti_tool"]
    with app.app_context(), rt.db.transaction() as session:
        registrations = _registration_ids(session, platform, client_id)
        if len(registrations) > 1:
            raise click.ClickException("the platform has several registrations: add --client-id")
        pack = institution_for(session, rt.settings, registrations[0]).pack
    if fmt == "csv":
        _write(register_csv(pack, lang), out)
    else:
        data = register_json(pack, lang, today(rt.settings).isoformat())
        _write(json.dumps(data, indent=2, ensure_ascii=False), out)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(export_group())
