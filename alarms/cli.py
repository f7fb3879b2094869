"""``sagawatch alarms ...``: try filter patterns and alarm definitions before deploying them."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import TypeAdapter, ValidationError

from alarms.commands import register as register_standard_set_commands
from alarms.evaluate.composite import CompositeAlarmDefinition, evaluate_composite_alarm
from alarms.evaluate.evaluator import Datapoint, UnsupportedAlarmError, evaluate_alarm
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue
from alarms.patterns import PatternSyntaxError, compile_pattern
from alarms.testmetric import test_metric_filter

_DATAPOINTS = TypeAdapter(list[Datapoint])
_STATES = TypeAdapter(dict[str, AlarmStateValue])

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Metric filters and alarms: test patterns, simulate alarms, deploy the standard set.",
)


@app.callback()
def _group() -> None:
    """Metric filters and alarms: test patterns, simulate alarms."""


def _read_lines(source: str) -> list[str]:
    """Log events, one per line, from a file or ``-`` (stdin); blank lines are not events."""
    if source == "-":
        text = sys.stdin.read()
    else:
        path = Path(source)
        if not path.is_file():
            typer.echo(f"error: FILE {source!r}: no such file", err=True)
            raise typer.Exit(2)
        text = path.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip() != ""]


# ignore_unknown_options: a pattern such as "-DEBUG" (exclude DEBUG) is an argument, not an option.
@app.command("test-pattern", context_settings={"ignore_unknown_options": True})
def test_pattern(
    pattern: Annotated[str, typer.Argument(help="The filter pattern, e.g. '{ $.level = \"ERROR\" }'.")],
    source: Annotated[str, typer.Argument(metavar="[FILE|-]", help="Log lines, one event per line.")] = "-",
) -> None:
    """Print what CloudWatch's TestMetricFilter would return for these log lines (JSON)."""
    try:
        compiled = compile_pattern(pattern)
    except PatternSyntaxError as exc:
        typer.echo(f"error: invalid filter pattern: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(test_metric_filter(compiled, _read_lines(source)), indent=2, ensure_ascii=False))


def _load_json(path: Path, what: str) -> Any:
    if not path.is_file():
        _fail(f"{what} {str(path)!r}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        _fail(f"{what} {str(path)!r} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _explain(error: ValidationError, what: str) -> str:
    """One line per problem, each naming the field (``Threshold``, ``datapoints[2].value``)."""
    lines = [f"{what} is not valid:"]
    for item in error.errors():
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in item["loc"]).lstrip(".")
        lines.append(f"  {where or '(top level)'}: {item['msg']}")
    return "\n".join(lines)


def _parse_at(at: str | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        _fail(f"--at {at!r} is not an ISO 8601 time such as 2026-11-24T06:00:00Z")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("simulate")
def simulate(
    alarm: Annotated[Path, typer.Option("--alarm", help="PutMetricAlarm parameters, as JSON.")],
    datapoints: Annotated[
        Path, typer.Option("--datapoints", help='Raw datapoints: [{"timestamp": ..., "value": ...}].')
    ],
    at: Annotated[
        str | None, typer.Option("--at", help="Evaluate at this ISO 8601 time (default: now).")
    ] = None,
    previous_state: Annotated[
        AlarmStateValue | None,
        typer.Option("--previous-state", help="The alarm's state before this evaluation."),
    ] = None,
) -> None:
    """Evaluate an alarm on datapoints as CloudWatch would; print its StateValue and StateReason."""
    try:
        definition = AlarmDefinition.model_validate(_load_json(alarm, "--alarm"))
    except ValidationError as exc:
        _fail(_explain(exc, f"--alarm {str(alarm)!r}"))
    try:
        points = _DATAPOINTS.validate_python(_load_json(datapoints, "--datapoints"))
    except ValidationError as exc:
        _fail(_explain(exc, f"--datapoints {str(datapoints)!r}").replace("\n  [", "\n  datapoints["))
    try:
        state = evaluate_alarm(definition, points, _parse_at(at), previous_state)
    except UnsupportedAlarmError as exc:
        _fail(str(exc))
    typer.echo(json.dumps(state.summary(), indent=2))


@app.command("simulate-composite")
def simulate_composite(
    alarm: Annotated[Path, typer.Option("--alarm", help="PutCompositeAlarm parameters, as JSON.")],
    states: Annotated[
        Path, typer.Option("--states", help='Child alarm states: {"alarm-name": "ALARM" | "OK" | ...}.')
    ],
) -> None:
    """Evaluate a composite alarm's AlarmRule on its child alarms' states."""
    try:
        definition = CompositeAlarmDefinition.model_validate(_load_json(alarm, "--alarm"))
    except ValidationError as exc:
        _fail(_explain(exc, f"--alarm {str(alarm)!r}"))
    try:
        children = _STATES.validate_python(_load_json(states, "--states"))
        state = evaluate_composite_alarm(definition, children, datetime.now(UTC))
    except ValidationError as exc:
        _fail(_explain(exc, f"--states {str(states)!r}"))
    except KeyError as exc:
        _fail(str(exc.args[0]))
    typer.echo(json.dumps(state.summary(), indent=2))


# deploy | template | status: the standard set, in a module of its own (alarms.commands).
register_standard_set_commands(app)
