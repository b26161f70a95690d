"""``guideline`` commands for privacy officers: validate a pack, show it, try a decision."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import click

from lti_tool.policy.decision import Decision
from lti_tool.policy.evaluate import evaluate
from lti_tool.policy.facts import (
    Audience,
    Facts,
    InstitutionSettings,
    Made,
    Purpose,
    Recognisable,
    TeacherLocation,
)
from lti_tool.policy.loading import default_pack, load_pack
from lti_tool.policy.pack import Pack
from lti_tool.policy.reading import PackError

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_LOCALE = click.option("--locale", type=click.Choice(["nl", "en"]), default="en", show_default=True)
_PACK = click.option(
    "--pack", "pack_file", type=_FILE, help="Pack file; default: the built-in one."
)


def _month_day(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    """Parse a school-year end written MM-DD, e.g. 07-31."""
    month, _, day = value.partition("-")
    try:
        month_day = (int(month), int(day))
        InstitutionSettings(school_year_end=month_day)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a month and day in the form MM-DD, e.g. 07-31"
        ) from None
    return month_day


def _values(enum: type[Made | Recognisable | Purpose | Audience | TeacherLocation]) -> list[str]:
    return [member.value for member in enum]


def _pack(pack_file: Path | None) -> Pack:
    try:
        return default_pack() if pack_file is None else load_pack(pack_file)
    except PackError as error:
        raise click.ClickException(f"the pack is not valid:\n{error}") from None


@click.group(name="guideline")
def guideline() -> None:
    """Guideline packs: validate, show and try decisions."""


@guideline.command()
@click.argument("file", type=_FILE)
def validate(file: Path) -> None:
    """Check a pack file; print OK <name> <version> or every problem (exit 1)."""
    try:
        pack = load_pack(file)
    except PackError as error:
        for problem in error.problems:
            click.echo(str(problem))
        click.echo(f"{len(error.problems)} problem(s) found")
        raise SystemExit(1) from None
    click.echo(f"OK {pack.name} {pack.version}")


@guideline.command()
@_PACK
@_LOCALE
def show(pack_file: Path | None, locale: str) -> None:
    """Print a pack's rules, conditions, legal bases and retention rules."""
    pack = _pack(pack_file)
    click.echo(f"{pack.name} {pack.version}  (sha256 {pack.digest})")
    for rule in pack.rules:
        click.echo(f"\n{rule.id}  {rule.title.get(locale)}")
        click.echo(f"    {rule.summary.get(locale)}")
        click.echo(f"    [{rule.legal_basis}] {pack.text(rule.legal_basis, locale)}")
        for condition in rule.conditions:
            click.echo(f"    {condition.id}  {condition.text.get(locale)}")
    click.echo("\nRetention")
    for retention in pack.retention.values():
        years = "" if retention.years is None else f", {retention.years} year(s)"
        click.echo(f"    {retention.id} ({retention.cite}, {retention.method}{years})")
        click.echo(f"        {retention.text.get(locale)}")
    click.echo("\nVisibility")
    for scope, text in pack.visibility.items():
        click.echo(f"    {scope}  {text.get(locale)}")
    click.echo("\nConsent from")
    for consenter, text in pack.consenters.items():
        click.echo(f"    {consenter}  {text.get(locale)}")


@guideline.command()
@click.option("--made", required=True, type=click.Choice(_values(Made)))
@click.option(
    "--recognisable", required=True, multiple=True, type=click.Choice(_values(Recognisable))
)
@click.option("--purpose", required=True, type=click.Choice(_values(Purpose)))
@click.option("--audience", required=True, type=click.Choice(_values(Audience)))
@click.option(
    "--teacher-location",
    type=click.Choice(_values(TeacherLocation)),
    default=TeacherLocation.SCHOOL.value,
    show_default=True,
)
@click.option(
    "--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD; default: today."
)
@click.option(
    "--school-year-end", metavar="MM-DD", default="07-31", show_default=True, callback=_month_day
)
@_PACK
@_LOCALE
@click.option("--json", "as_json", is_flag=True, help="Print the decision as one JSON object.")
def decide(
    made: str,
    recognisable: tuple[str, ...],
    purpose: str,
    audience: str,
    teacher_location: str,
    on: datetime | None,
    school_year_end: tuple[int, int],
    pack_file: Path | None,
    locale: str,
    as_json: bool,
) -> None:
    """Show the decision for one set of facts (exit 0 for any decision, refusals included)."""
    facts = Facts(
        made=Made(made),
        recognisable=frozenset(Recognisable(value) for value in recognisable),
        purpose=Purpose(purpose),
        audience=Audience(audience),
        today=date.today() if on is None else on.date(),
        teacher_location=TeacherLocation(teacher_location),
    )
    pack = _pack(pack_file)
    decision = evaluate(facts, pack, InstitutionSettings(school_year_end=school_year_end))
    if as_json:
        click.echo(json.dumps(decision.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_decision(decision, pack, locale)


def _print_decision(decision: Decision, pack: Pack, locale: str) -> None:
    rule = (
        "none" if decision.rule is None else f"{decision.rule}  {pack.text(decision.rule, locale)}"
    )
    click.echo(f"Rule:         {rule}")
    click.echo(f"Outcome:      {decision.outcome}")
    if decision.legal_basis is not None:
        basis = pack.text(decision.legal_basis, locale)
        click.echo(f"Legal basis:  {decision.legal_basis}  {basis}")
    for consenter in decision.consent_from:
        click.echo(f"Consent from: {consenter}  {pack.text(consenter, locale)}")
    for condition in decision.conditions:
        click.echo(f"Condition:    {condition}  {pack.text(condition, locale)}")
    if decision.retention is not None:
        retention = decision.retention
        dates = {"delete on": retention.delete_on, "review on": retention.review_on}
        when = ", ".join(f"{label} {day}" for label, day in dates.items() if day is not None)
        click.echo(f"Retention:    {retention.kind} ({retention.rule}) {when}")
        click.echo(f"              {retention.text.get(locale)}")
    if decision.visibility is not None:
        click.echo(f"Visibility:   {decision.visibility}  {pack.text(decision.visibility, locale)}")
    for reason in decision.reasons:
        click.echo(f"Because:      [{reason.cite}] {reason.text.get(locale)}")
    click.echo(
        f"Pack:         {pack.name} {decision.pack_version} (case {decision.case or 'none'})"
    )
