"""``sw-reconcile``: the reconciler run by EventBridge Scheduler on AWS (hourly incremental, nightly full).

The schedule's ``Input`` is the event: ``{"mode": "incremental"|"full", "systems": [...], "apply": false}``,
each key optional. The run is ``reconciler.wiring.reconcile_once``, the path ``sagawatch reconcile`` and
the schedule in ``sagawatch up`` take, so the findings, run records and lock are the same whoever started
it. Outcomes, as the CLI's exit codes say them:

- clean or drift: returned (and logged) with the counts; drift is not a failure of the function, the
  ``DriftFindings`` alarm watches it, so the open-findings count is put to CloudWatch after each run;
- another run holds the lock: ``skipped`` is returned, not raised (a scheduled run is not queued);
- bad input, a missing endpoint, a system that could not be read: raised with an ``error_code``, so the
  invocation fails and the function's error alarm hears it.

It lives in ``reconciler`` (DESIGN.md: the app and the audit packages never import each other) and is
declared in the app's template beside the functions it audits, so one template deploys both; its logging
is Powertools' own, under the service name ``reconciler``, with the contract's ``error_code`` on errors.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from reconciler.config import EndpointError, Endpoints, ReconcileSettings
from reconciler.lock import RunLocked
from reconciler.mapping import MAPPINGS
from reconciler.metrics import publish_open_findings
from reconciler.run import Mode, RunOptions, RunResult
from reconciler.wiring import reconcile_once
from sagawatch.redact import redact
from sagawatch.streams import CurrentStdout

logger = Logger(service="reconciler", stream=CurrentStdout())  # type: ignore[arg-type]

Runner = Callable[[Endpoints, ReconcileSettings, RunOptions], RunResult]
Publisher = Callable[[str], int]


class ReconcileError(RuntimeError):
    """A run that must fail the invocation; ``error_code`` is the log field alarms filter on."""

    def __init__(self, message: str, error_code: str) -> None:
        super().__init__(message)
        self.error_code = error_code


class ReconcileRequest(BaseModel):
    """The schedule's ``Input``; unknown keys are refused, so a typo does not silently run the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode = Mode.INCREMENTAL
    systems: tuple[str, ...] | None = None  # None: every mapped system
    apply: bool = False  # scheduled runs report; repairs stay a deliberate choice

    @field_validator("systems")
    @classmethod
    def _known_systems(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("at least one system, or leave it out for all")
        unknown = sorted(set(value) - set(MAPPINGS))
        if unknown:
            raise ValueError(f"unknown system {', '.join(unknown)}; known: {', '.join(sorted(MAPPINGS))}")
        return tuple(dict.fromkeys(value))


def parse_request(event: Any) -> ReconcileRequest:
    """The event as a request, or a ``ReconcileError`` naming each bad field."""
    if event is None:
        event = {}
    if not isinstance(event, Mapping):
        raise ReconcileError(
            f"event: must be a JSON object, got {type(event).__name__}", "RECONCILE_BAD_INPUT"
        )
    try:
        return ReconcileRequest.model_validate(dict(event))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'event'}: {err['msg']}" for err in exc.errors()
        )
        raise ReconcileError(f"invalid reconcile input: {problems}", "RECONCILE_BAD_INPUT") from None


def endpoints_from_env(environ: Mapping[str, str], systems: tuple[str, ...]) -> Endpoints:
    """Aurora and audit URLs (``DATABASE_URL``, ``AUDIT_DATABASE_URL``) and each SaaS's
    ``SAGAWATCH_<SYSTEM>_URL``, as the template passes them; every missing one is named."""
    saas_vars = {system: f"SAGAWATCH_{system.upper()}_URL" for system in systems}
    wanted = {"DATABASE_URL": "", "AUDIT_DATABASE_URL": "", **{name: "" for name in saas_vars.values()}}
    found = {name: environ.get(name, "") for name in wanted}
    missing = [name for name, value in found.items() if not value]
    if missing:
        raise EndpointError(
            f"{', '.join(missing)}: not set (template parameters DatabaseUrl, AuditDatabaseUrl, *ApiUrl)"
        )
    return Endpoints(
        aurora_url=found["DATABASE_URL"],
        audit_url=found["AUDIT_DATABASE_URL"],
        saas={system: found[name] for system, name in saas_vars.items()},
    )


def summary(result: RunResult) -> dict[str, Any]:
    """What the invocation returns and logs: counts only, never a finding's values."""
    return {
        "status": result.status,
        "run_id": result.run_id,
        "mode": result.mode.value,
        "findings": result.finding_count,
        "by_system": {s.system: {k.value: n for k, n in sorted(s.counts.items())} for s in result.systems},
        "deferred": len(result.deferred),
        "repairs_planned": result.planned,
        "repairs": dict(result.repair_counts),
        "errors": list(result.errors),
        "duration_s": round(result.duration_s, 3),
    }


def publish_drift_count(audit_url: str) -> int:
    """The open-findings count to CloudWatch, for the standard ``DriftFindings`` alarm."""
    return publish_open_findings(boto3.client("cloudwatch"), audit_url)


def reconcile(
    event: Any,
    *,
    environ: Mapping[str, str] | None = None,
    run: Runner = reconcile_once,
    publish: Publisher = publish_drift_count,
) -> dict[str, Any]:
    """One scheduled run (see the module docstring); ``run`` and ``publish`` are the edges tests replace."""
    request = parse_request(event)
    env = os.environ if environ is None else environ
    systems = request.systems or tuple(sorted(MAPPINGS))
    settings = ReconcileSettings()
    try:
        endpoints = endpoints_from_env(env, systems)
    except EndpointError as exc:
        raise ReconcileError(str(exc), "RECONCILE_NOT_CONFIGURED") from None
    options = RunOptions(
        mode=request.mode,
        systems=systems,
        apply=request.apply,
        grace=settings.grace,
        stale_tolerance=settings.stale_tolerance,
    )
    try:
        result = run(endpoints, settings, options)
    except RunLocked as exc:
        logger.info("reconcile skipped: another run holds the lock", extra={"mode": request.mode.value})
        return {"status": "skipped", "mode": request.mode.value, "reason": str(exc)}
    except Exception as exc:  # the invocation must fail naming what broke, with secrets out
        raise ReconcileError(
            f"reconcile failed: {type(exc).__name__}: {redact(str(exc))}", "RECONCILE_FAILED"
        ) from None
    answer = summary(result)
    logger.info("reconcile run finished", extra=answer)
    if result.status == "error":  # the CLI's exit code 2: some system could not be read
        raise ReconcileError(f"reconcile run {result.run_id}: {'; '.join(result.errors)}", "RECONCILE_FAILED")
    try:
        answer["open_findings"] = publish(endpoints.audit_url)
    except Exception as exc:  # the run stands; the alarm's figure is late, and that is logged
        logger.error(
            "open findings count not published",
            extra={"error_code": "RECONCILE_METRIC_FAILED", "error": redact(str(exc))},
        )
    return answer


@logger.inject_lambda_context
def handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        return reconcile(event)
    except ReconcileError as exc:  # the line the function's ERROR metric filter counts, then fail
        logger.error(str(exc), extra={"error_code": exc.error_code})
        raise
