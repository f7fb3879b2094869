"""``sagawatch canary ...``: judge v1 against v2, set the canary weight, promote, roll back.

AWS is the running stack's moto (from ``stack.json``) or, with no stack running, the real AWS of the
default credential chain. Exit codes: 0 done / PASS, 1 FAIL or MARGINAL, 2 refused (bad input, the
Lambda API said no, nothing to judge), 3 not enough data to judge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError

from alarms.canary.analysis import CanaryReport, NoCanaryError, analyse
from alarms.canary.control import AliasState, AuditRecord, CanaryControl, CanaryControlError
from alarms.canary.judge import SideStats, Verdict, default_config
from alarms.canary.metrics import (
    CloudWatchMetricSource,
    LogReportSource,
    SampleSource,
    emf_metric_names,
    lambda_metric_names,
)
from alarms.canary.publish import publish_error_rate_delta
from sagawatch.aws import aws_session
from sagawatch.settings import get_settings
from sagawatch.stack_info import StackInfo

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Canary: judge v1 against v2, set weight, promote, roll back.",
)

EXIT_BY_VERDICT = {Verdict.PASS: 0, Verdict.MARGINAL: 1, Verdict.FAIL: 1, Verdict.NOT_ENOUGH_DATA: 3}

Alias = Annotated[str, typer.Option("--alias", help="The weighted alias.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class Source(StrEnum):
    AUTO = "auto"
    LOGS = "logs"
    EMF = "emf"
    LAMBDA = "lambda-metrics"


@app.callback()
def _group() -> None:
    """Canary: judge v1 against v2, set weight, promote, roll back."""


class _Aws:
    """Clients for the running stack's moto, or for AWS when no stack runs."""

    def __init__(self) -> None:
        settings = get_settings()
        info = StackInfo.read(settings.stack_file)
        self.endpoint = info.aws_endpoint if info else None
        self.region = info.region if info else settings.region
        self._session = aws_session(self.region, self.endpoint)

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _describe(state: AliasState) -> str:
    if state.canary_version is None:
        return f"{state.function}:{state.alias} -> version {state.primary_version} (100%), no canary"
    return (
        f"{state.function}:{state.alias} -> version {state.primary_version} ({1 - state.canary_weight:.1%}), "
        f"canary version {state.canary_version} ({state.canary_weight:.1%})"
    )


def _print_record(record: AuditRecord, as_json: bool) -> None:
    if as_json:
        typer.echo(record.model_dump_json())
        return
    typer.echo(f"{record.what} by {record.who} at {record.when.isoformat()}: {record.detail}")
    typer.echo(f"now: {_describe(record.after)}")


def _act(change: Callable[[CanaryControl], AuditRecord], as_json: bool) -> None:
    """Run one alias change with this account's Lambda API and print its audit record."""
    try:
        record = change(CanaryControl(_Aws().client("lambda")))
    except (ValueError, CanaryControlError) as exc:
        raise _fail(str(exc)) from None
    _print_record(record, as_json)


@app.command()
def status(function: str, alias: Alias = "live", as_json: AsJson = False) -> None:
    """Show the alias: its primary version and the canary version with its weight."""
    try:
        state = CanaryControl(_Aws().client("lambda")).status(function, alias)
    except (ValueError, CanaryControlError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(state.model_dump_json() if as_json else _describe(state))


@app.command("set")
def set_weight(
    function: str,
    weight: Annotated[float, typer.Option("--weight", help="Share of invocations for the canary, 0..1.")],
    alias: Alias = "live",
    version: Annotated[
        str | None, typer.Option("--version", help="The canary version (default: the alias's current one).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Send WEIGHT of the alias's invocations to the canary version."""
    _act(lambda control: control.set_weight(function, alias, weight, version=version), as_json)


@app.command()
def promote(function: str, alias: Alias = "live", as_json: AsJson = False) -> None:
    """Point the alias at the canary version: all traffic to it."""
    _act(lambda control: control.promote(function, alias), as_json)


@app.command()
def rollback(function: str, alias: Alias = "live", as_json: AsJson = False) -> None:
    """Take the canary out of the alias: all traffic back to the primary version."""
    _act(lambda control: control.rollback(function, alias), as_json)


def _sources(
    aws: _Aws, kind: Source, state: AliasState, period_s: int, duration_stat: str
) -> list[SampleSource]:
    logs: SampleSource = LogReportSource(aws.client("logs"), state.function)
    if kind is Source.LOGS:
        return [logs]
    cloudwatch = aws.client("cloudwatch")
    lambda_names = replace(lambda_metric_names(state.function, state.alias), duration_stat=duration_stat)
    lambda_metrics: SampleSource = CloudWatchMetricSource(cloudwatch, lambda_names, period_s)
    if kind is Source.LAMBDA:
        return [lambda_metrics]
    # The app's EMF: Powertools' namespace and service as the canary version is configured with.
    config = aws.client("lambda").get_function_configuration(
        FunctionName=state.function, Qualifier=state.canary_version
    )
    env = (config.get("Environment") or {}).get("Variables") or {}
    names = emf_metric_names(
        env.get("POWERTOOLS_METRICS_NAMESPACE", "sagawatch"),
        env.get("POWERTOOLS_SERVICE_NAME", "service_undefined"),
    )
    emf: SampleSource = CloudWatchMetricSource(
        cloudwatch, replace(names, duration_stat=duration_stat), period_s
    )
    if kind is Source.EMF:
        return [emf]
    # Lambda's own metrics exist only on AWS; per-invocation REPORT lines are the fallback everywhere.
    return [emf, logs] if aws.endpoint else [lambda_metrics, emf, logs]


def _side(stats: SideStats) -> str:
    return f"{stats.samples}/{'-' if stats.mean is None else f'{stats.mean:.4g}'}"


def _render(report: CanaryReport) -> str:
    result = report.result
    lines = [
        _describe(report.alias_state),
        f"window {report.start:%Y-%m-%d %H:%M:%S} .. {report.end:%H:%M:%S} UTC, data from {report.source}",
    ]
    for v in report.versions:
        rate = "-" if v.error_rate is None else f"{v.error_rate:.2%}"
        lines.append(
            f"  {v.role:8} v{v.version:<6} invocations {v.invocations:>7}  errors {v.errors:>6} ({rate})"
        )
    score = "-" if result.score is None else f"{result.score:.1f}"
    lines.append(f"verdict {result.verdict.value}  score {score}")
    lines.append(
        f"  {'metric':18} {'class':7} {'baseline n/mean':>20} {'canary n/mean':>20} {'ratio':>8} {'p':>8}"
    )
    for m in result.metrics:
        ratio = "-" if m.effect_size is None else f"{m.effect_size:.3g}"
        p = "-" if m.p_value is None else f"{m.p_value:.3g}"
        lines.append(
            f"  {m.name:18} {m.classification.value:7} {_side(m.baseline):>20} {_side(m.canary):>20} "
            f"{ratio:>8} {p:>8}"
        )
    lines += [f"  - {reason}" for reason in result.reasons]
    return "\n".join(lines)


@app.command("judge")
def judge_canary(
    function: str,
    alias: Alias = "live",
    minutes: Annotated[
        int, typer.Option("--minutes", min=1, max=7 * 24 * 60, help="Window: the last N minutes.")
    ] = 60,
    source: Annotated[Source, typer.Option("--source", help="Where samples come from.")] = Source.AUTO,
    period: Annotated[int, typer.Option("--period", min=1, help="Seconds per metric sample.")] = 60,
    min_samples: Annotated[int, typer.Option("--min-samples", min=3, help="Per version and metric.")] = 20,
    duration_stat: Annotated[
        str,
        typer.Option("--duration-stat", help="Per-period duration statistic (p50, p99 on AWS)."),
    ] = "Average",
    publish: Annotated[
        bool, typer.Option("--publish", help="Put CanaryErrorRateDelta for the standard alarm.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Judge the canary version against the primary (exit 0 PASS, 1 FAIL/MARGINAL, 3 not enough data)."""
    aws = _Aws()
    end = datetime.now(UTC)
    try:
        state = CanaryControl(aws.client("lambda")).status(function, alias)
        if state.canary_version is None:
            raise NoCanaryError(f"{_describe(state)}: nothing to judge")
        report = analyse(
            state,
            _sources(aws, source, state, period, duration_stat),
            end - timedelta(minutes=minutes),
            end,
            default_config(min_samples),
        )
        delta = publish_error_rate_delta(aws.client("cloudwatch"), report, end) if publish else None
    except (ValueError, CanaryControlError, NoCanaryError) as exc:
        raise _fail(str(exc)) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise _fail(
            f"reading samples failed: {error.get('Code', 'error')}: {error.get('Message', exc)}"
        ) from None
    except BotoCoreError as exc:
        raise _fail(f"reading samples failed: {exc}") from None
    # model_dump_json: an infinite ratio becomes "Infinity" (a string), so the output stays valid JSON.
    typer.echo(report.model_dump_json(indent=2) if as_json else _render(report))
    if publish:
        published = "nothing (a version had no invocations)" if delta is None else f"{delta:+.4f}"
        typer.echo(f"CanaryErrorRateDelta published: {published}", err=True)
    raise typer.Exit(EXIT_BY_VERDICT[report.result.verdict])
