"""One shape for sagas from Aurora and from Step Functions, and the stuck verdict: pure functions.

The verdict is ``sagawatch.contracts.is_stuck`` itself, so collectors, dashboard and alarms agree;
this module only maps both sources onto ``SagaState`` and adds the ages an operator sorts by.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sagawatch.contracts.saga import TERMINAL_STATUSES, SagaState, SagaStatus, is_stuck

#: Step Functions execution status -> saga status. A redrivable failure can still move: not terminal.
SFN_STATUS: dict[str, SagaStatus] = {
    "RUNNING": SagaStatus.RUNNING,
    "PENDING_REDRIVE": SagaStatus.RUNNING,
    "SUCCEEDED": SagaStatus.SUCCEEDED,
    "FAILED": SagaStatus.FAILED,
    "TIMED_OUT": SagaStatus.FAILED,
    "ABORTED": SagaStatus.FAILED,
}
TERMINAL_NAMES: frozenset[str] = frozenset(s.value for s in TERMINAL_STATUSES)


@dataclass(frozen=True)
class SagaStepRecord:
    saga_id: str
    seq: int
    name: str
    status: str
    idempotency_key: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class SagaRecord:
    """A row of the audit store's ``sagas`` table (before the verdict columns)."""

    saga_id: str
    source: str  # aurora | stepfunctions
    saga_type: str
    correlation_id: str | None
    status: str
    started_at: datetime
    updated_at: datetime
    current_step: str | None = None
    attempts: int = 0
    last_error: str | None = None
    failed_state: str | None = None
    error: str | None = None
    cause: str | None = None
    deadline: datetime | None = None
    business_key: str | None = None  # what the saga acts on (cust_no); findings are keyed by it
    steps: tuple[SagaStepRecord, ...] = ()

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_NAMES


@dataclass(frozen=True)
class Verdict:
    stuck: bool
    age_s: float
    idle_s: float


def assess(record: SagaRecord, now: datetime, threshold_s: float) -> Verdict:
    """Stuck per the contract, plus age since start and time since the last progress."""
    state = SagaState(
        id=record.saga_id,
        type=record.saga_type,
        correlation_id=record.correlation_id or "",
        status=SagaStatus(record.status),
        current_step=record.current_step,
        attempts=record.attempts,
        last_error=record.last_error,
        started_at=record.started_at,
        updated_at=record.updated_at,
        deadline=record.deadline,
    )
    return Verdict(
        stuck=is_stuck(state, now, threshold_s),
        age_s=max(0.0, (now - record.started_at).total_seconds()),
        idle_s=max(0.0, (now - record.updated_at).total_seconds()),
    )


def assess_all(
    records: Iterable[SagaRecord], now: datetime, threshold_of: Callable[[str], float]
) -> list[tuple[SagaRecord, Verdict]]:
    return [(r, assess(r, now, threshold_of(r.saga_type))) for r in records]


# --- Step Functions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    failed_state: str | None
    error: str | None
    cause: str | None


def execution_failure(history: Sequence[Mapping[str, Any]]) -> Failure | None:
    """Where and why an execution failed, from its history in event order.

    The first failure inside a state is the root cause (a Catch may have sent the execution on
    to compensations that ended in a ``Fail`` state); without one (a ``Fail`` state reached
    directly, a timeout, an abort) the execution's own failure event and last state are used.
    """
    current: str | None = None
    for event in history:
        kind = str(event.get("type", ""))
        entered = event.get("stateEnteredEventDetails")
        if kind.endswith("StateEntered") and isinstance(entered, Mapping):
            current = entered.get("name")
            continue
        if kind.endswith("Failed") and not kind.startswith("Execution"):
            details = _details(event)
            return Failure(current, details.get("error"), details.get("cause"))
    for event in reversed(history):
        kind = str(event.get("type", ""))
        if kind in ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
            details = _details(event)
            error = details.get("error") or kind.removeprefix("Execution").upper()
            return Failure(current, error, details.get("cause"))
    return None


def execution_steps(saga_id: str, history: Sequence[Mapping[str, Any]]) -> tuple[SagaStepRecord, ...]:
    """One step per state entered, in order, with its status from how the state was left."""
    steps: list[SagaStepRecord] = []
    open_steps: dict[str, int] = {}
    for event in history:
        kind = str(event.get("type", ""))
        at = event.get("timestamp")
        entered = event.get("stateEnteredEventDetails")
        exited = event.get("stateExitedEventDetails")
        if isinstance(entered, Mapping) and entered.get("name"):
            name = str(entered["name"])
            open_steps[name] = len(steps)
            steps.append(SagaStepRecord(saga_id, len(steps), name, "RUNNING", started_at=at))
        elif isinstance(exited, Mapping) and exited.get("name") in open_steps:
            index = open_steps.pop(str(exited["name"]))
            status = "FAILED" if steps[index].status == "FAILED" else "SUCCEEDED"  # a caught failure
            steps[index] = replace(steps[index], status=status, finished_at=at)
        elif kind.endswith("Failed") and open_steps and not kind.startswith("Execution"):
            index = max(open_steps.values())
            details = _details(event)
            steps[index] = replace(
                steps[index],
                status="FAILED",
                finished_at=at,
                error=_join(details.get("error"), details.get("cause")),
            )
        elif kind in _EXECUTION_END:  # states never exited (a Fail state, a timeout) end with the execution
            details = _details(event)
            for index in open_steps.values():
                if steps[index].status == "FAILED":
                    continue  # its own failure says more than the execution's
                failed = _EXECUTION_END[kind] == "FAILED"
                steps[index] = replace(
                    steps[index],
                    status=_EXECUTION_END[kind],
                    finished_at=at,
                    error=_join(details.get("error"), details.get("cause")) if failed else None,
                )
            open_steps.clear()
    return tuple(steps)


_EXECUTION_END = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "FAILED",
    "ExecutionAborted": "FAILED",
}


def _details(event: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            return dict(value)
    return {}


def _join(error: str | None, cause: str | None) -> str | None:
    if error and cause:
        return f"{error}: {cause}"
    return error or cause
