"""``sagawatch jobs``: a job's status, the jobs DLQ, and its redrive.

The running stack is found through ``stack.json`` (its moto endpoint); with
``--aws`` the commands talk to AWS itself (default credential chain, the
configured region), where ``redrive`` uses ``StartMessageMoveTask``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer

from instrumented_app.jobs.redrive import (
    DEFAULT_MAX_MESSAGES,
    JobsQueues,
    Method,
    find_queues,
    list_dlq,
    redrive,
)
from instrumented_app.jobs.store import DynamoJobStore
from sagawatch.aws import aws_session
from sagawatch.settings import get_settings
from sagawatch.stack_info import StackInfo

#: The names ``instrumented_app/template.yaml`` gives the jobs queue and table.
JOBS_QUEUE = "sw-async-jobs"
JOBS_TABLE = "sw-async-jobs"

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Async jobs: status, DLQ, redrive.")

AwsOption = Annotated[bool, typer.Option("--aws", help="Use AWS itself rather than the running local stack.")]
QueueOption = Annotated[str, typer.Option("--queue", help="The jobs queue (its DLQ is read from it).")]
TableOption = Annotated[str, typer.Option("--table", help="The jobs table.")]


class _Clients:
    def __init__(self, use_aws: bool) -> None:
        settings = get_settings()
        endpoint: str | None = None
        if not use_aws:
            info = StackInfo.read(settings.stack_file)
            if info is None:
                typer.echo(
                    f"no stack is running (no live {settings.stack_file}); start one with `sagawatch up`, "
                    "or pass --aws",
                    err=True,
                )
                raise typer.Exit(1)
            endpoint = info.aws_endpoint
        session = aws_session(settings.region, endpoint)
        self.local = endpoint is not None
        self.sqs: Any = session.client("sqs", endpoint_url=endpoint)
        self.dynamodb: Any = session.client("dynamodb", endpoint_url=endpoint)

    def queues(self, queue: str) -> JobsQueues:
        try:
            return find_queues(self.sqs, queue)
        except LookupError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
        except self.sqs.exceptions.QueueDoesNotExist as exc:
            typer.echo(f"queue {queue} does not exist", err=True)
            raise typer.Exit(1) from exc


@app.command()
def status(
    job_id: Annotated[str, typer.Argument(help="The job id POST /api/async answered with.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON.")] = False,
    use_aws: AwsOption = False,
    table: TableOption = JOBS_TABLE,
) -> None:
    """Show one job: status, retry count, last error, timestamps, result (exit 1 if unknown)."""
    clients = _Clients(use_aws)
    job = DynamoJobStore(table, clients.dynamodb).get(job_id)
    if job is None:
        typer.echo(f"job {job_id} does not exist", err=True)
        raise typer.Exit(1)
    view = job.status_view()
    if as_json:
        typer.echo(json.dumps(view, indent=2))
        return
    for name, value in view.items():
        if value is not None:
            typer.echo(f"{name:15} {json.dumps(value) if isinstance(value, dict) else value}")


@app.command()
def dlq(
    as_json: Annotated[bool, typer.Option("--json", help="Print the messages as a JSON list.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="Most messages to show.")] = 100,
    use_aws: AwsOption = False,
    queue: QueueOption = JOBS_QUEUE,
    table: TableOption = JOBS_TABLE,
) -> None:
    """List the jobs DLQ: job id, its last error, receive count, correlation id (messages stay put)."""
    clients = _Clients(use_aws)
    letters = list_dlq(clients.sqs, clients.queues(queue), DynamoJobStore(table, clients.dynamodb), limit)
    if as_json:
        typer.echo(json.dumps([asdict(letter) for letter in letters], indent=2))
        return
    if not letters:
        typer.echo("the jobs DLQ is empty")
        return
    for letter in letters:
        typer.echo(
            f"{letter.job_id or '(unreadable)'}  receives={letter.receive_count}  "
            f"correlation_id={letter.correlation_id or '-'}  status={letter.job_status or '-'}  "
            f"error={letter.error or '-'}"
        )


@app.command("redrive")
def redrive_command(
    max_messages: Annotated[
        int | None, typer.Option("--max", min=1, help="Move at most this many messages (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    use_aws: AwsOption = False,
    queue: QueueOption = JOBS_QUEUE,
    table: TableOption = JOBS_TABLE,
) -> None:
    """Send DLQ messages back to the jobs queue and their FAILED jobs back to PENDING; prints counts."""
    clients = _Clients(use_aws)
    # StartMessageMoveTask moves a whole DLQ and moto does not run it: move by hand locally or with --max.
    method: Method = "move" if clients.local or max_messages is not None else "move-task"
    report = redrive(
        clients.sqs,
        clients.queues(queue),
        DynamoJobStore(table, clients.dynamodb),
        method=method,
        max_messages=max_messages or DEFAULT_MAX_MESSAGES,
    )
    if as_json:
        typer.echo(json.dumps(asdict(report), indent=2))
    else:
        typer.echo(
            f"redrive ({report.method}): {report.moved} moved, {report.jobs_reset} jobs reset to PENDING, "
            f"{report.failed} failed" + (f", task {report.task_handle}" if report.task_handle else "")
        )
        for problem in report.problems:
            typer.echo(f"  {problem}", err=True)
    if report.failed:
        raise typer.Exit(1)
