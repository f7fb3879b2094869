"""The ``sagawatch`` command: the stack's own commands, and the other packages' groups."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Annotated

import typer

from sagawatch.settings import get_settings
from sagawatch.stack_info import StackInfo

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Observability and consistency audit for saga-based serverless integrations.",
)

#: Command groups that live in other packages: name -> ("module:attribute" of a typer.Typer, help).
#: Each is imported only when invoked, so ``sagawatch status`` stays fast and this package imports
#: nothing of theirs at module level (DESIGN.md's dependency rule).
LAZY_GROUPS: dict[str, tuple[str, str]] = {
    "alarms": ("alarms.cli:app", "Metric filters and alarms: test patterns, simulate alarms"),
    "faults": ("instrumented_app.saas_sim.cli:app", "Fault switches of the SaaS simulators"),
    "canary": ("alarms.canary.cli:app", "Canary: judge v1 against v2, set weight, promote, roll back"),
    "collect": ("collectors.cli:collect_app", "Collect logs, queues, sagas and metrics into the audit store"),
    "trace": ("collectors.cli:trace_app", "One transaction by correlation id: sagas, span waterfall, logs"),
    "reconcile": ("reconciler.cli:app", "Diff Aurora against every SaaS; report and repair drift"),
    "saga": ("instrumented_app.sagas.cli:app", "Sagas: list, show, resume, find stuck"),
    "jobs": ("instrumented_app.jobs.cli:app", "Async jobs: status, DLQ, redrive"),
    "dlq": ("instrumented_app.jobs.dlq_cli:app", "Dead-letter queues: list and redrive any queue's DLQ"),
    "traffic": ("instrumented_app.traffic.cli:app", "Drive saga traffic through the API front"),
    "demo": ("instrumented_app.demo.cli:app", "Run one pattern end to end on the running stack"),
    "dashboard": ("dashboard.cli:app", "Open the operators' dashboard (Streamlit) on 127.0.0.1"),
}


def _register_lazy_group(name: str, target: str, help_text: str) -> None:
    @app.command(
        name=name,
        help=help_text,
        add_help_option=False,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def _run(ctx: typer.Context) -> None:
        module_name, attr = target.split(":")
        group: typer.Typer = getattr(importlib.import_module(module_name), attr)
        group(list(ctx.args), prog_name=f"sagawatch {name}")


for _name, (_target, _help) in LAZY_GROUPS.items():
    _register_lazy_group(_name, _target, _help)


@app.command()
def up(
    smoke: Annotated[
        bool, typer.Option("--smoke", help="Start, check one request end to end, stop; exit 0 if all passed.")
    ] = False,
) -> None:
    """Start the embedded stack (moto, PostgreSQL, Lambda runtime, OTLP receiver) on loopback."""
    from sagawatch.stack.up import exit_at_once, run_up

    exit_at_once(run_up(get_settings(), smoke=smoke))


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the endpoints as JSON.")] = False,
) -> None:
    """Show the running stack's endpoints (exit 1 when no stack runs)."""
    settings = get_settings()
    info = StackInfo.read(settings.stack_file)
    if info is None:
        if as_json:
            typer.echo(json.dumps({"running": False}))
        else:
            typer.echo(f"no stack is running (no live {settings.stack_file})", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps({"running": True, **info.model_dump()}, indent=2))
        return
    typer.echo(f"stack running, pid {info.pid}, since {info.started_at}")
    for name, value in info.model_dump(exclude={"pid", "started_at", "saas", "extra"}).items():
        typer.echo(f"  {name:14} {value}")
    for name, url in {**info.saas, **info.extra}.items():
        typer.echo(f"  {name:14} {url}")


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())
