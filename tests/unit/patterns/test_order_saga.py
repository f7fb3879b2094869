"""Order saga task logic on an in-memory ledger: run once, compensate what is in force, faults, redrive."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pydantic import ValidationError

from instrumented_app.handlers.orders import execution_arn
from instrumented_app.orders.ledger import COMPENSATED, DONE, TaskRecord
from instrumented_app.orders.model import OrderRequest
from instrumented_app.orders.redrive import failed_task, redrive_name, was_compensated
from instrumented_app.orders.tasks import WORK, TaskFailed, TransientError, compensate, run_task


class FakeLedger:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], TaskRecord] = {}
        self.work_calls = 0

    def get(self, order_id: str, task: str) -> TaskRecord | None:
        return self.items.get((order_id, task))

    def record_done(
        self, order_id: str, task: str, generation: int, result: dict[str, Any], correlation_id: str
    ) -> TaskRecord:
        old = self.items.get((order_id, task))
        if old is None or old.status in (None, COMPENSATED):
            base = old or TaskRecord(order_id, task, None, 0, {})
            self.items[(order_id, task)] = replace(base, status=DONE, generation=generation, result=result)
        return self.items[(order_id, task)]

    def record_compensated(self, order_id: str, task: str) -> bool:
        old = self.items.get((order_id, task))
        if old is None or old.status != DONE:
            return False
        self.items[(order_id, task)] = replace(old, status=COMPENSATED)
        return True

    def count_failure(self, order_id: str, task: str, kind: str) -> int:
        old = self.items.get((order_id, task)) or TaskRecord(order_id, task, None, 0, {})
        if kind == "transient":
            new = replace(old, transient_failures=old.transient_failures + 1)
            count = new.transient_failures
        else:
            new = replace(old, failures=old.failures + 1)
            count = new.failures
        self.items[(order_id, task)] = new
        return count

    def records(self, order_id: str) -> list[TaskRecord]:
        return [r for (o, _), r in self.items.items() if o == order_id]


EVENT = {"order_id": "o-1", "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 3}], "amount": 900}


def test_a_task_runs_once_per_order_and_a_second_delivery_gets_the_recorded_result() -> None:
    ledger = FakeLedger()
    first = run_task(ledger, EVENT, "ReserveInventory", WORK["ReserveInventory"], "c-1")
    again = run_task(ledger, EVENT, "ReserveInventory", WORK["ReserveInventory"], "c-1")
    assert first == {"reservation_id": "res-o-1-1", "units": 5}
    assert again == {**first, "skipped": True}


def test_a_compensation_undoes_only_what_is_in_force_and_a_rerun_does_it_again() -> None:
    ledger = FakeLedger()
    assert compensate(ledger, EVENT, "ProcessPayment") == {"task": "ProcessPayment", "compensated": False}
    run_task(ledger, EVENT, "ProcessPayment", WORK["ProcessPayment"], "c-1")
    assert compensate(ledger, EVENT, "ProcessPayment")["compensated"] is True
    assert compensate(ledger, EVENT, "ProcessPayment")["compensated"] is False  # twice is harmless
    redone = run_task(ledger, EVENT, "ProcessPayment", WORK["ProcessPayment"], "c-1")
    assert redone == {"payment_id": "pay-o-1-2", "amount": 900}


def test_faults_fail_a_task_the_set_number_of_times_then_let_it_through() -> None:
    ledger = FakeLedger()
    event = {**EVENT, "faults": {"transient": {"ProcessPayment": 2}, "fail": {"ArrangeShipping": 1}}}
    for _ in range(2):
        with pytest.raises(TransientError):
            run_task(ledger, event, "ProcessPayment", WORK["ProcessPayment"], "c")
    assert run_task(ledger, event, "ProcessPayment", WORK["ProcessPayment"], "c")["amount"] == 900
    with pytest.raises(TaskFailed):
        run_task(ledger, event, "ArrangeShipping", WORK["ArrangeShipping"], "c")
    assert run_task(ledger, event, "ArrangeShipping", WORK["ArrangeShipping"], "c")["tracking_no"]


def test_an_order_request_names_the_bad_field() -> None:
    with pytest.raises(ValidationError) as caught:
        OrderRequest.model_validate({"order_id": "bad id!", "cust_no": "C1", "lines": [], "amount": 1})
    fields = {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}
    assert fields == {"order_id", "lines"}
    with pytest.raises(ValidationError, match="unknown task 'Ship'"):
        OrderRequest.model_validate(
            {
                "order_id": "o",
                "cust_no": "C1",
                "lines": [{"sku": "A", "qty": 1}],
                "amount": 1,
                "faults": {"fail": {"Ship": 1}},
            }
        )


def _entered(name: str) -> dict[str, Any]:
    return {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": name}}


def test_the_failed_task_and_compensation_are_read_from_the_history() -> None:
    history = [
        _entered("ReserveInventory"),
        _entered("ProcessPayment"),
        _entered("ArrangeShipping"),
        {"type": "LambdaFunctionFailed"},
        _entered("RefundPayment"),
        _entered("CancelReservation"),
        _entered("OrderFailed"),
    ]
    assert failed_task(history) == "ArrangeShipping"
    assert was_compensated(history) is True
    assert was_compensated(history[:4]) is False


def test_names_of_executions_and_their_redrives() -> None:
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:sw-order-saga"
    arn = execution_arn(machine, "o-1")
    assert arn == "arn:aws:states:us-east-1:123456789012:execution:sw-order-saga:o-1"
    assert redrive_name("o-1", 1) == "o-1.redrive-1"
    assert redrive_name("o-1.redrive-1", 2) == "o-1.redrive-2"
