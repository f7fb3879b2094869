"""``sagawatch saga``: list, show, find stuck, resume, compensate and resolve sagas recorded in Aurora.

The dashboard's saga actions run these commands, so a button and a typed command share one code path.
Aurora is found through the running stack's ``stack.json`` (its ``aurora_url``
and SaaS URLs), else through ``DATABASE_URL`` and ``SAGAWATCH_*_URL``.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import psycopg
import typer

from instrumented_app.saas_clients import SaasEndpoints
from instrumented_app.sagas.compensation import NotCompensable, compensate_saga
from instrumented_app.sagas.postgres import PostgresSagaStore
from instrumented_app.sagas.records import SagaNotFound, SagaRecord
from sagawatch.contracts import SagaState, SagaStatus, is_stuck
from sagawatch.redact import redact
from sagawatch.settings import Settings, get_settings
from sagawatch.stack_info import StackInfo

if TYPE_CHECKING:
    from instrumented_app.sagas.runner import SagaRunner

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Sagas: list, show, resume, compensate, resolve."
)

LIVE = (SagaStatus.PENDING, SagaStatus.RUNNING, SagaStatus.COMPENSATING)
#: Sagas that ended needing a person: what ``resolve`` records as settled by hand.
RESOLVABLE = (SagaStatus.MANUAL_INTERVENTION, SagaStatus.FAILED)
MAX_NOTE_CHARS = 2000
#: How many live sagas the stuck query reads at most (the index on live sagas keeps this cheap).
MAX_SCAN = 10_000


@dataclass(frozen=True)
class Target:
    aurora_url: str
    saas: dict[str, str]


def find_target(settings: Settings) -> Target:
    info = StackInfo.read(settings.stack_file)
    if info is not None:
        return Target(info.aurora_url, dict(info.saas))
    if settings.database_url:
        return Target(settings.database_url, {})
    typer.echo(
        f"no running stack (no live {settings.stack_file}) and no DATABASE_URL: start `sagawatch up`"
        " or set DATABASE_URL",
        err=True,
    )
    raise typer.Exit(2)


def _connect(target: Target) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(target.aurora_url, autocommit=True)
    except psycopg.Error as exc:
        typer.echo(f"cannot reach Aurora: {redact(str(exc))}", err=True)
        raise typer.Exit(2) from exc


def stuck_sagas(store: PostgresSagaStore, settings: Settings, now: datetime) -> list[SagaState]:
    """Live sagas idle past their type's threshold or past their deadline (``is_stuck``)."""
    live = store.list_sagas(statuses=LIVE, limit=MAX_SCAN)
    return [s for s in live if is_stuck(s, now, settings.stuck_threshold_s(s.type))]


def _parse_status(value: str | None) -> SagaStatus | None:
    if value is None:
        return None
    try:
        return SagaStatus(value.upper())
    except ValueError:
        known = ", ".join(status.value for status in SagaStatus)
        typer.echo(f"--status: {value!r} is not a saga status (one of {known})", err=True)
        raise typer.Exit(2) from None


def _state_json(state: SagaState) -> dict[str, Any]:
    return state.model_dump(mode="json")


@app.command("list")
def list_command(
    stuck: Annotated[bool, typer.Option("--stuck", help="Only sagas the stuck rule flags.")] = False,
    status: Annotated[str | None, typer.Option("--status", help="Only sagas in this status.")] = None,
    saga_type: Annotated[str | None, typer.Option("--type", help="Only sagas of this type.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_SCAN, help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
) -> None:
    """Sagas, most recently updated first."""
    settings = get_settings()
    wanted = _parse_status(status)
    with closing(_connect(find_target(settings))) as conn:
        store = PostgresSagaStore(conn)
        if stuck:
            found = stuck_sagas(store, settings, datetime.now(UTC))
            found = [s for s in found if (wanted is None or s.status is wanted)]
            found = [s for s in found if saga_type is None or s.type == saga_type][:limit]
        else:
            found = store.list_sagas(saga_type=saga_type, statuses=[wanted] if wanted else (), limit=limit)
    if as_json:
        typer.echo(json.dumps([_state_json(s) for s in found], indent=2))
        return
    if not found:
        typer.echo("no sagas" + (" are stuck" if stuck else " match"))
        return
    for s in found:
        typer.echo(
            f"{s.id}  {s.type:12} {s.status.value:20} step={s.current_step or '-':18} "
            f"attempts={s.attempts} updated={s.updated_at.isoformat(timespec='seconds')}"
        )


@app.command("show")
def show_command(
    saga_id: Annotated[str, typer.Argument(help="The saga's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="The saga and its steps as JSON.")] = False,
) -> None:
    """One saga with its steps."""
    with closing(_connect(find_target(get_settings()))) as conn:
        record = _load(PostgresSagaStore(conn), saga_id)
    if as_json:
        typer.echo(record.model_dump_json(indent=2))
        return
    _print_record(record)


@app.command("resume")
def resume_command(saga_id: Annotated[str, typer.Argument(help="The saga to continue.")]) -> None:
    """Continue a saga from its recorded state: forward, or its compensation. Exit 0 when it ends
    SUCCEEDED or COMPENSATED, 1 when it ends otherwise."""
    _run_saga(saga_id, lambda runner: runner.resume(saga_id))


@app.command("compensate")
def compensate_command(
    saga_id: Annotated[str, typer.Argument(help="The saga to undo.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Undo a saga: compensate its done steps in reverse (a stuck, failed or manual-intervention saga
    whose steps can still be undone). Asks first unless --yes. Exit 0 when it ends COMPENSATED."""
    if not yes:
        typer.confirm(f"Compensate saga {saga_id} (undo its done steps)?", abort=True)
    _run_saga(saga_id, lambda runner: compensate_saga(runner, saga_id))


def _run_saga(saga_id: str, act: Callable[[SagaRunner], SagaRecord]) -> None:
    """Open a runner on the stack (or the environment), ``act`` on the saga, print where it went."""
    from instrumented_app.sagas.runner import SagaBusy, UnknownSagaType, open_runner

    target = find_target(get_settings())
    try:
        endpoints = _endpoints(target)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    runner = open_runner(target.aurora_url, endpoints, crash_after="")
    try:
        before = _load(runner.store, saga_id)
        record = act(runner)
    except (SagaBusy, UnknownSagaType, NotCompensable) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    finally:
        runner.close()
    typer.echo(f"saga {saga_id}: {before.state.status.value} -> {record.state.status.value}")
    _print_record(record)
    raise typer.Exit(0 if record.state.status in (SagaStatus.SUCCEEDED, SagaStatus.COMPENSATED) else 1)


_RESOLVE_RUNBOOK = """
INSERT INTO saga_runbook (saga_id, saga_type, status, failed_step, error, resolved_at)
VALUES (%s, %s, 'RESOLVED', %s, %s, now())
ON CONFLICT (saga_id) DO UPDATE SET status = 'RESOLVED', resolved_at = now(), updated_at = now()
"""


@app.command("resolve")
def resolve_command(
    saga_id: Annotated[str, typer.Argument(help="The saga a person has settled.")],
    note: Annotated[str, typer.Option("--note", help="What was done (a ticket, the fix); required.")],
    by: Annotated[
        str | None, typer.Option("--by", envvar="SAGAWATCH_OPERATOR", help="Who; default: the OS user.")
    ] = None,
) -> None:
    """Record that a person settled a saga that ended MANUAL_INTERVENTION or FAILED: its runbook entry
    is RESOLVED and the saga's audit log says who, when and the note. Its status stays as it ended."""
    from instrumented_app.sagas.member_merge_store import MergeStore

    text = note.strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        typer.echo(f"--note: must be 1..{MAX_NOTE_CHARS} characters of what was done", err=True)
        raise typer.Exit(2)
    who = (by or "").strip() or _os_user()
    with closing(_connect(find_target(get_settings()))) as conn:
        store = PostgresSagaStore(conn)
        record = _load(store, saga_id)
        state = record.state
        if state.status not in RESOLVABLE:
            typer.echo(
                f"saga {saga_id} is {state.status.value}: only a saga that ended "
                f"{' or '.join(s.value for s in RESOLVABLE)} is resolved by hand (resume or compensate it)",
                err=True,
            )
            raise typer.Exit(1)
        with conn.transaction():
            conn.execute(_RESOLVE_RUNBOOK, (saga_id, state.type, record.failed_step, state.last_error))
            MergeStore(conn).audit(
                saga_id=saga_id,
                saga_type=state.type,
                correlation_id=state.correlation_id,
                event="resolved by hand",
                status=state.status.value,
                detail={"note": text, "by": who},
            )
            store.update_saga(saga_id)  # touched: the collectors copy the resolved entry on their next pass
    typer.echo(f"saga {saga_id} ({state.status.value}) resolved by {who}: {text}")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (a container)
        return f"uid:{os.getuid()}"


def _endpoints(target: Target) -> SaasEndpoints:
    """The stack's SaaS URLs, else the environment's; a gap is a ``ValueError`` naming what is missing."""
    if not target.saas:
        return SaasEndpoints.from_env()
    missing = sorted({"support", "commerce", "membership"} - set(target.saas))
    if missing:
        raise ValueError(f"the running stack publishes no URL for {', '.join(missing)}")
    return SaasEndpoints(
        support_url=target.saas["support"],
        commerce_url=target.saas["commerce"],
        membership_url=target.saas["membership"],
    )


@app.command("runbook")
def runbook_command(
    saga_id: Annotated[str, typer.Argument(help="The saga that needed a person.")],
    as_json: Annotated[bool, typer.Option("--json", help="The entry as JSON.")] = False,
) -> None:
    """The runbook entry of a saga stopped past its point of no return: what was done, what remains,
    the commands to finish or undo it, and the before/after diff. Exit 1 when it has none."""
    from instrumented_app.sagas.member_merge_store import MergeStore

    with closing(_connect(find_target(get_settings()))) as conn:
        entry = MergeStore(conn).runbook(saga_id)
    if entry is None:
        typer.echo(f"saga {saga_id} has no runbook entry", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(entry, indent=2, default=str))
        return
    typer.echo(f"runbook of saga {saga_id} ({entry['saga_type']}): {entry['status']}")
    typer.echo(f"  stopped at {entry['failed_step']}: {entry['error']}")
    for item in entry["done"]:
        typer.echo(f"  done:      {item['step']:18} {item['what']}")
    for item in entry["remaining"]:
        typer.echo(f"  remaining: {item['step']:18} {item['what']}")
    for purpose, commands in entry["commands"].items():
        for command in commands:
            typer.echo(f"  {purpose + ':':10} {command}")
    for change in entry["diff"]:
        typer.echo(f"  diff: {change['cust_no']} {change['system']}: {change['before']} -> {change['after']}")


@app.command("redrive")
def redrive_command(
    execution_arn: Annotated[str, typer.Argument(help="The failed Step Functions execution (its ARN).")],
    wait_s: Annotated[
        float, typer.Option("--wait", min=0, max=600, help="Wait up to this long for it to end; 0: do not.")
    ] = 60.0,
) -> None:
    """Redrive a failed execution of the order saga from its failed step.

    On AWS ``RedriveExecution`` continues the same execution when it failed uncompensated; an execution
    that was compensated (ended in OrderFailed), or a stack without RedriveExecution (moto), gets a new
    execution ``<name>.redrive-<n>`` with the recorded input and a ``redrive`` marker: tasks still in force
    are skipped by their ledger records, what compensation undid is done again. Exit 0 when it ends
    SUCCEEDED (or is left running with ``--wait 0``), 1 otherwise.
    """
    from instrumented_app.orders.redrive import NotRedrivable, redrive
    from sagawatch.aws import aws_session

    settings = get_settings()
    info = StackInfo.read(settings.stack_file)
    endpoint = info.aws_endpoint if info is not None else None
    region = info.region if info is not None else settings.region
    sfn = aws_session(region, endpoint).client("stepfunctions", endpoint_url=endpoint)
    try:
        outcome = redrive(sfn, execution_arn)
    except NotRedrivable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except sfn.exceptions.ExecutionDoesNotExist as exc:
        typer.echo(f"no execution {execution_arn}", err=True)
        raise typer.Exit(1) from exc
    since = outcome.resume_from or "its failed state"
    typer.echo(f"redriven by {outcome.method} from {since}: {outcome.execution_arn}")
    if wait_s == 0:
        return
    status = "RUNNING"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=outcome.execution_arn)
        status = described["status"]
        if status != "RUNNING":
            break
        time.sleep(0.5)
    typer.echo(f"execution {outcome.execution_arn}: {status}")
    raise typer.Exit(0 if status == "SUCCEEDED" else 1)


def _load(store: PostgresSagaStore, saga_id: str) -> SagaRecord:
    try:
        return store.load(saga_id)
    except SagaNotFound as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


def _print_record(record: SagaRecord) -> None:
    s = record.state
    typer.echo(f"saga {s.id} ({s.type}) {s.status.value}, correlation id {s.correlation_id}")
    typer.echo(
        f"  started {s.started_at.isoformat(timespec='seconds')}, updated "
        f"{s.updated_at.isoformat(timespec='seconds')}, attempts {s.attempts}"
    )
    if record.failed_step:
        typer.echo(f"  failed step: {record.failed_step}")
    if s.last_error:
        typer.echo(f"  last error: {s.last_error}")
    for step in record.steps:
        line = f"  {step.seq}. {step.name:18} {step.status.value:12}"
        if step.result:
            line += f" {json.dumps(step.result)}"
        if step.error:
            line += f"  error: {step.error}"
        typer.echo(line)
