"""``lti-tool consent ...``: check the consent ledger."""

from __future__ import annotations

import json
import resource
import sys
import time

import click


@click.group()
def consent() -> None:
    """The consent ledger."""


@consent.command("verify")
@click.option("--json", "as_json", is_flag=True)
def verify(as_json: bool) -> None:
    """Check the whole hash chain, streaming (bounded memory); exit 1 at the first broken
    record, which is printed."""
    from lti_tool import create_app
    from lti_tool.consent.ledger import verify as verify_chain

    app = create_app()
    started = time.perf_counter()
    with app.extensions["lti_tool"].db.engine.connect() as conn:
        verdict = verify_chain(conn)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": verdict.ok,
                    "records": verdict.records,
                    "broken_seq": verdict.broken_seq,
                    "problem": verdict.problem,
                    "seconds": round(seconds, 3),
                }
            )
        )
    elif verdict.ok:
        click.echo(
            f"ledger ok: {verdict.records} records verified in {seconds:.1f} s "
            f"(peak memory {peak_mib:.0f} MiB)"
        )
    else:
        click.echo(
            f"ledger BROKEN at record {verdict.broken_seq}: {verdict.problem} "
            f"({verdict.records} records before it are sound)",
            err=True,
        )
    if not verdict.ok:
        sys.exit(1)
