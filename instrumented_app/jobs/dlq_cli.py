"""``sagawatch dlq list|redrive QUEUE``: any queue's dead-letter queue, seen and sent back.

The DLQ is the one the queue's redrive policy names. For the jobs queue
(``sw-async-jobs``) the messages' jobs are read and, on redrive, reset from
``FAILED`` to ``PENDING`` (as ``sagawatch jobs redrive`` does); for any other
queue the messages are listed and moved as they are. Locally (the running
stack) messages are moved by hand, bounded by ``--max``; with ``--aws`` and no
``--max`` AWS's ``StartMessageMoveTask`` moves the whole DLQ.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from instrumented_app.jobs.cli import JOBS_QUEUE, JOBS_TABLE, AwsOption, _Clients
from instrumented_app.jobs.redrive import DEFAULT_MAX_MESSAGES, Method, list_dlq, redrive
from instrumented_app.jobs.store import DynamoJobStore, JobStore

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Dead-letter queues: list and redrive any queue's DLQ."
)

QueueArgument = Annotated[str, typer.Argument(help="The source queue's name (its DLQ is read from it).")]


def _store_for(queue: str, clients: _Clients) -> JobStore | None:
    """The jobs table for the jobs queue, whose messages name jobs; nothing for any other queue."""
    return DynamoJobStore(JOBS_TABLE, clients.dynamodb) if queue == JOBS_QUEUE else None


@app.command("list")
def list_command(
    queue: QueueArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print the messages as a JSON list.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="Most messages to show.")] = 100,
    use_aws: AwsOption = False,
) -> None:
    """List QUEUE's DLQ: message id, receive count, correlation id (and the job for the jobs queue)."""
    clients = _Clients(use_aws)
    letters = list_dlq(clients.sqs, clients.queues(queue), _store_for(queue, clients), limit)
    if as_json:
        typer.echo(json.dumps([asdict(letter) for letter in letters], indent=2))
        return
    if not letters:
        typer.echo(f"the DLQ of {queue} is empty")
        return
    for letter in letters:
        job = f"  job={letter.job_id} status={letter.job_status or '-'}" if letter.job_id else ""
        typer.echo(
            f"{letter.message_id}  receives={letter.receive_count}  "
            f"correlation_id={letter.correlation_id or '-'}{job}"
            + (f"  error={letter.error}" if letter.error else "")
        )


@app.command("redrive")
def redrive_command(
    queue: QueueArgument,
    max_messages: Annotated[
        int | None, typer.Option("--max", min=1, help="Move at most this many messages (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    use_aws: AwsOption = False,
) -> None:
    """Send QUEUE's DLQ messages back to QUEUE (jobs back to PENDING for the jobs queue); prints counts."""
    clients = _Clients(use_aws)
    method: Method = "move" if clients.local or max_messages is not None else "move-task"
    report = redrive(
        clients.sqs,
        clients.queues(queue),
        _store_for(queue, clients),
        method=method,
        max_messages=max_messages or DEFAULT_MAX_MESSAGES,
    )
    if as_json:
        typer.echo(json.dumps(asdict(report), indent=2))
    else:
        typer.echo(
            f"redrive of {queue} ({report.method}): {report.moved} moved, {report.jobs_reset} jobs reset "
            f"to PENDING, {report.failed} failed"
            + (f", task {report.task_handle}" if report.task_handle else "")
        )
        for problem in report.problems:
            typer.echo(f"  {problem}", err=True)
    if report.failed:
        raise typer.Exit(1)
