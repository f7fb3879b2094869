"""``sagawatch traffic``: drive customer sagas through the running stack's API front, print the outcomes.

The operator's way to reproduce the saga traffic stack test: pair it with
``sagawatch faults set support --error-rate 0.2 --timeout-rate 0.1`` and
check afterwards with ``sagawatch jobs dlq`` / ``sagawatch dlq redrive``.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import typer
from rich.progress import Progress

from instrumented_app.traffic.driver import Outcome, drive
from instrumented_app.traffic.duplicates import QueueDuplicator
from instrumented_app.traffic.pacing import MAX_DURATION_S, MAX_RATE, Pacing
from instrumented_app.traffic.plan import MAX_SAGAS, TrafficPlan
from sagawatch.aws import aws_session
from sagawatch.settings import get_settings
from sagawatch.stack_info import StackInfo

app = typer.Typer(add_completion=False, help="Drive saga traffic through the API front.")


#: Sagas started when neither ``--sagas`` nor ``--duration`` is given.
DEFAULT_SAGAS = 100


@app.command()
def run(
    sagas: Annotated[
        int | None,
        typer.Option(
            "--sagas", min=1, max=MAX_SAGAS, help=f"How many sagas to start (default {DEFAULT_SAGAS})."
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            min=0.001,
            max=MAX_RATE,
            help="Sagas started per second at most (default: as slots free).",
        ),
    ] = None,
    duration_s: Annotated[
        float | None,
        typer.Option(
            "--duration",
            min=1.0,
            max=MAX_DURATION_S,
            help="Keep starting sagas for this many seconds (instead of --sagas).",
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=256, help="Sagas in flight at once.")
    ] = 8,
    async_share: Annotated[
        float, typer.Option("--async-share", min=0.0, max=1.0, help="Share sent through POST /api/async.")
    ] = 0.5,
    duplicate_share: Annotated[
        float,
        typer.Option(
            "--duplicate-share",
            min=0.0,
            max=1.0,
            help="Share re-sent with the same Idempotency-Key (and of async jobs, delivered twice).",
        ),
    ] = 0.1,
    bad_input_share: Annotated[
        float,
        typer.Option(
            "--bad-input-share",
            min=0.0,
            max=1.0,
            help="Share sent with an invalid body (no or a malformed cust_no): must get 400, counted apart.",
        ),
    ] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the plan (names, routes, duplicates).")] = 0,
    job_timeout_s: Annotated[
        float, typer.Option("--job-timeout", min=1.0, max=3600.0, help="Longest wait for one job's end (s).")
    ] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print every outcome as JSON.")] = False,
) -> None:
    """Start SAGAS customer sagas (or keep starting them for DURATION seconds), CONCURRENCY at a time and
    at most RATE per second; print a summary by final status."""
    if sagas is not None and duration_s is not None:
        raise typer.BadParameter("give --sagas or --duration, not both", param_hint="'--duration'")
    if duration_s is None and sagas is None:
        sagas = DEFAULT_SAGAS
    settings = get_settings()
    info = StackInfo.read(settings.stack_file)
    if info is None:
        typer.echo(
            f"no stack is running (no live {settings.stack_file}); start one with `sagawatch up`", err=True
        )
        raise typer.Exit(1)
    run_id = uuid.uuid4().hex[:8]
    plan = TrafficPlan(
        run_id=run_id,
        seed=seed,
        async_share=async_share,
        duplicate_share=duplicate_share,
        bad_input_share=bad_input_share,
    )
    session = aws_session(info.region, info.aws_endpoint)
    duplicator = QueueDuplicator(
        session.client("sqs", endpoint_url=info.aws_endpoint),
        session.client("dynamodb", endpoint_url=info.aws_endpoint),
    )
    with Progress(transient=True, disable=as_json) as progress:
        task = progress.add_task(f"run {run_id}", total=sagas)
        report = drive(
            info.api_endpoint,
            plan if sagas is None else plan.take(sagas),
            concurrency=concurrency,
            pacing=Pacing(rate=rate, duration_s=duration_s),
            job_timeout_s=job_timeout_s,
            duplicate_message=duplicator,
            on_outcome=lambda _: progress.advance(task),
        )
    if as_json:
        typer.echo(json.dumps([_as_dict(outcome) for outcome in report.outcomes], indent=2))
        return
    typer.echo(f"run {run_id}: {report.summary()}; {duplicator.sent} queue messages delivered twice")
    for outcome in report.outcomes:
        if outcome.status not in {"SUCCEEDED", "REFUSED"}:
            typer.echo(
                f"  {outcome.planned.cust_no} {outcome.status} saga={outcome.saga_id} {outcome.reason or ''}"
            )


def _as_dict(outcome: Outcome) -> dict[str, Any]:
    return {
        "cust_no": outcome.planned.cust_no,
        "route": outcome.planned.route,
        "correlation_id": outcome.planned.correlation_id,
        "bad_input": outcome.planned.bad_input,
        "status": outcome.status,
        "saga_id": outcome.saga_id,
        "job_id": outcome.job_id,
        "job_status": outcome.job_status,
        "reason": outcome.reason,
        "duplicate_consistent": outcome.duplicate_consistent,
        "elapsed_s": round(outcome.elapsed_s, 3),
    }
