"""How ``sagawatch saga redrive`` chooses between RedriveExecution and a re-run, on a fake Step Functions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from instrumented_app.orders.redrive import NotRedrivable, redrive

ARN = "arn:aws:states:us-east-1:123456789012:execution:sw-order-saga:o-1"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:sw-order-saga"


class _Exists(Exception):
    pass


class _Missing(Exception):
    pass


class FakeSfn:
    class exceptions:
        ExecutionAlreadyExists = _Exists
        ExecutionDoesNotExist = _Missing

    def __init__(self, status: str, states: list[str], *, redrive_supported: bool = True) -> None:
        self.status = status
        self.states = states
        self.redrive_supported = redrive_supported
        self.redriven: list[str] = []
        self.started: list[dict[str, Any]] = []
        self.taken = {"o-1"}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        return {
            "executionArn": executionArn,
            "stateMachineArn": MACHINE,
            "name": executionArn.rsplit(":", 1)[1],
            "status": self.status,
            "input": json.dumps({"order_id": "o-1", "correlation_id": "c-1"}),
        }

    def get_execution_history(self, **_: Any) -> dict[str, Any]:
        events: list[dict[str, Any]] = []
        for name in self.states:
            events.append({"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": name}})
            if name == "ArrangeShipping":
                events.append({"type": "LambdaFunctionFailed"})
        return {"events": events}

    def redrive_execution(self, executionArn: str) -> dict[str, Any]:
        if not self.redrive_supported:
            raise ClientError(
                {"Error": {"Code": "InvalidAction", "Message": "not implemented"}}, "RedriveExecution"
            )
        self.redriven.append(executionArn)
        return {}

    def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:
        if name in self.taken:
            raise _Exists(name)
        self.taken.add(name)
        self.started.append({"name": name, "input": json.loads(input)})
        return {"executionArn": f"{MACHINE.replace(':stateMachine:', ':execution:')}:{name}"}


def test_an_uncompensated_failure_is_redriven_in_place() -> None:
    sfn = FakeSfn("FAILED", ["ReserveInventory", "ProcessPayment", "ArrangeShipping"])
    outcome = redrive(sfn, ARN)
    assert (outcome.method, outcome.execution_arn, outcome.resume_from) == (
        "RedriveExecution",
        ARN,
        "ArrangeShipping",
    )
    assert sfn.redriven == [ARN] and sfn.started == []


def test_a_compensated_failure_is_rerun_with_the_recorded_input_and_a_marker() -> None:
    states = ["ReserveInventory", "ProcessPayment", "ArrangeShipping", "RefundPayment", "CancelReservation"]
    sfn = FakeSfn("FAILED", [*states, "OrderFailed"])
    outcome = redrive(sfn, ARN)
    assert outcome.method == "re-run" and outcome.execution_arn.endswith(":o-1.redrive-1")
    assert sfn.redriven == []
    assert sfn.started[0]["input"] == {
        "order_id": "o-1",
        "correlation_id": "c-1",
        "redrive": {"of": ARN, "resume_from": "ArrangeShipping", "attempt": 1},
    }
    again = redrive(sfn, ARN)  # a second redrive takes the next name
    assert again.execution_arn.endswith(":o-1.redrive-2")


def test_without_redrive_execution_the_endpoint_gets_a_rerun() -> None:
    sfn = FakeSfn(
        "FAILED", ["ReserveInventory", "ProcessPayment", "ArrangeShipping"], redrive_supported=False
    )
    assert redrive(sfn, ARN).method == "re-run"


def test_a_succeeded_execution_is_not_redriven() -> None:
    with pytest.raises(NotRedrivable, match="SUCCEEDED"):
        redrive(FakeSfn("SUCCEEDED", ["ReserveInventory"]), ARN)
