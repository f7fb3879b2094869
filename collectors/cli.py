"""``sagawatch collect`` and ``sagawatch trace``: the collectors from the terminal, on the running stack."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from sagawatch.settings import Settings, get_settings
from sagawatch.stack_info import StackInfo

# One command each: Typer runs a single-command app as that command (``sagawatch collect --once``).
collect_app = typer.Typer(add_completion=False)
trace_app = typer.Typer(add_completion=False, no_args_is_help=True)


def _stack(settings: Settings) -> StackInfo:
    info = StackInfo.read(settings.stack_file)
    if info is None:
        typer.echo(
            f"no stack is running (no live {settings.stack_file}); start one with 'sagawatch up'", err=True
        )
        raise typer.Exit(1)
    return info


@collect_app.command()
def collect(
    once: Annotated[bool, typer.Option("--once", help="Run one pass and print what it gathered.")] = False,
    passes: Annotated[
        int, typer.Option("--passes", min=1, max=10_000, help="Passes to run (default 1).")
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print each pass's report as JSON.")] = False,
) -> None:
    """Collect logs, queues, sagas and metrics of the running stack into its audit store."""
    from collectors.runner import Collector

    settings = get_settings()
    collector = Collector(settings, _stack(settings))
    total = 1 if once else passes
    for index in range(total):
        started = time.monotonic()
        try:
            report = collector.run_once()
        except RuntimeError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "started_at": report.started_at.isoformat(),
                        "duration_s": round(report.duration_s, 4),
                        "counts": report.counts,
                        "errors": [e.__dict__ for e in report.errors],
                    }
                )
            )
        else:
            typer.echo("\n".join(report.lines()))
        if index + 1 < total:
            time.sleep(max(0.0, settings.collect_interval_s - (time.monotonic() - started)))


@trace_app.command()
def trace(
    correlation_id: Annotated[str, typer.Argument(help="The business transaction's correlation id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the transaction as JSON.")] = False,
    width: Annotated[int, typer.Option("--width", min=20, max=400, help="Waterfall bar width.")] = 40,
) -> None:
    """Everything known about one transaction: sagas, spans as a waterfall, log lines, DLQ messages."""
    import psycopg

    from collectors.transaction.query import fetch_transaction
    from collectors.transaction.render import render_text

    settings = get_settings()
    audit_url = settings.audit_database_url or _stack(settings).audit_url
    with psycopg.connect(audit_url, autocommit=True) as conn:
        transaction = fetch_transaction(conn, correlation_id)
    if as_json:
        typer.echo(json.dumps(transaction.to_json(), indent=2, default=str))
    else:
        typer.echo(render_text(transaction, width=width))
    if transaction.empty:
        raise typer.Exit(1)
