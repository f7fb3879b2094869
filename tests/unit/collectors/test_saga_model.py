"""Sagas from both sources in one shape: stuck verdicts and Step Functions failures from history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.sagas.model import SagaRecord, assess, execution_failure, execution_steps

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def saga(status: str = "RUNNING", idle_s: float = 0, deadline: datetime | None = None) -> SagaRecord:
    return SagaRecord(
        saga_id="s1",
        source="aurora",
        saga_type="customer",
        correlation_id="c1",
        status=status,
        started_at=NOW - timedelta(seconds=idle_s + 60),
        updated_at=NOW - timedelta(seconds=idle_s),
        deadline=deadline,
    )


def test_live_saga_idle_past_its_threshold_is_stuck() -> None:
    assert not assess(saga(idle_s=119), NOW, 120).stuck
    verdict = assess(saga(idle_s=121), NOW, 120)
    assert verdict.stuck and verdict.idle_s == 121 and verdict.age_s == 181


def test_terminal_saga_is_never_stuck_and_deadline_counts() -> None:
    assert not assess(saga("FAILED", idle_s=10_000), NOW, 120).stuck
    assert not assess(saga("MANUAL_INTERVENTION", idle_s=10_000), NOW, 120).stuck
    assert assess(saga(idle_s=1, deadline=NOW - timedelta(seconds=1)), NOW, 120).stuck


def event(kind: str, seconds: int, **details: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": NOW + timedelta(seconds=seconds), **details}


def entered(name: str, seconds: int) -> dict[str, Any]:
    return event("TaskStateEntered", seconds, stateEnteredEventDetails={"name": name})


def exited(name: str, seconds: int) -> dict[str, Any]:
    return event("TaskStateExited", seconds, stateExitedEventDetails={"name": name})


ORDER_HISTORY = [
    event("ExecutionStarted", 0),
    entered("ReserveInventory", 1),
    exited("ReserveInventory", 2),
    entered("ProcessPayment", 3),
    event("TaskFailed", 4, taskFailedEventDetails={"error": "PaymentDeclined", "cause": "card expired"}),
    exited("ProcessPayment", 4),
    entered("CancelReservation", 5),
    exited("CancelReservation", 6),
    event("FailStateEntered", 7, stateEnteredEventDetails={"name": "OrderFailed"}),
    event("ExecutionFailed", 8, executionFailedEventDetails={"error": "OrderFailed", "cause": "compensated"}),
]


def test_failure_is_the_first_failed_state_even_after_compensation() -> None:
    failure = execution_failure(ORDER_HISTORY)
    assert failure is not None
    assert (failure.failed_state, failure.error, failure.cause) == (
        "ProcessPayment",
        "PaymentDeclined",
        "card expired",
    )


def test_failure_without_a_task_failure_uses_the_execution_event() -> None:
    history = [entered("Wait", 1), event("ExecutionTimedOut", 9, executionTimedOutEventDetails={})]
    failure = execution_failure(history)
    assert failure is not None and failure.failed_state == "Wait" and failure.error == "TIMEDOUT"
    assert execution_failure([entered("A", 1), exited("A", 2)]) is None


def test_steps_from_history_keep_a_caught_failure_failed() -> None:
    steps = execution_steps("arn:exec", ORDER_HISTORY)
    assert [(s.name, s.status) for s in steps] == [
        ("ReserveInventory", "SUCCEEDED"),
        ("ProcessPayment", "FAILED"),
        ("CancelReservation", "SUCCEEDED"),
        ("OrderFailed", "FAILED"),  # a Fail state is never exited: it ends with the execution
    ]
    assert steps[1].error == "PaymentDeclined: card expired"
    assert steps[3].error == "OrderFailed: compensated"
    assert [s.seq for s in steps] == [0, 1, 2, 3]


def test_an_uncaught_task_failure_keeps_its_own_error_when_the_execution_fails() -> None:
    history = [
        entered("ProcessPayment", 1),
        event("TaskFailed", 2, taskFailedEventDetails={"error": "Lambda.ServiceException", "cause": "boom"}),
        event("ExecutionFailed", 3, executionFailedEventDetails={"error": "States.TaskFailed"}),
    ]
    (step,) = execution_steps("arn:exec", history)
    assert (step.status, step.error) == ("FAILED", "Lambda.ServiceException: boom")
