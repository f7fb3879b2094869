"""What each task of the order saga does, given the ledger; no AWS here, so unit tests pass a fake ledger.

Inventory, payment and shipping are simulated (ids derived from the order and
the task's generation); what is real is the control flow around them: a task
runs once per order (``run_task``), a compensation undoes only what is in
force (``compensate``), and a test fault fails a task a set number of times
so the ASL's Retry (``TransientError``) and Catch (``TaskFailed``) show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from instrumented_app.orders.ledger import DONE, TaskLedger
from instrumented_app.orders.model import OrderFaults


class TransientError(Exception):
    """A failure worth retrying (the ASL's Retry matches this ``errorType``)."""


class TaskFailed(Exception):
    """A failure retrying will not mend (the ASL's Catch sends the order to compensation)."""


class BadTaskInput(Exception):
    """The execution input lacks what the task needs (a template or caller error)."""


#: A task's own work: (execution input, generation) -> the facts to record.
TaskWork = Callable[[Mapping[str, Any], int], dict[str, Any]]


def order_id_of(event: Mapping[str, Any]) -> str:
    order_id = event.get("order_id")
    if not isinstance(order_id, str) or not order_id:
        raise BadTaskInput("order_id: missing from the execution input")
    return order_id


def inject_fault(ledger: TaskLedger, event: Mapping[str, Any], task: str) -> None:
    """Raise the test fault the input asks for, while its count for this order and task is not used up."""
    raw = event.get("faults")
    if not raw:
        return
    faults = OrderFaults.model_validate(raw)
    order_id = order_id_of(event)
    transient = faults.transient.get(task, 0)
    if transient and ledger.count_failure(order_id, task, "transient") <= transient:
        raise TransientError(f"{task}: injected transient failure for order {order_id}")
    fail = faults.fail.get(task, 0)
    if fail and ledger.count_failure(order_id, task, "fail") <= fail:
        raise TaskFailed(f"{task}: injected failure for order {order_id}")


def run_task(
    ledger: TaskLedger, event: Mapping[str, Any], task: str, work: TaskWork, correlation_id: str
) -> dict[str, Any]:
    """Do ``task`` for the order unless its record says it is done (then return what was recorded)."""
    order_id = order_id_of(event)
    existing = ledger.get(order_id, task)
    if existing is not None and existing.status == DONE:
        return {**existing.result, "skipped": True}
    inject_fault(ledger, event, task)
    generation = (existing.generation if existing else 0) + 1
    record = ledger.record_done(order_id, task, generation, work(event, generation), correlation_id)
    return record.result


def compensate(ledger: TaskLedger, event: Mapping[str, Any], task: str) -> dict[str, Any]:
    """Undo ``task`` if it is in force; "nothing to undo" (never done, already undone) is success."""
    order_id = order_id_of(event)
    undone = ledger.record_compensated(order_id, task)
    return {"task": task, "compensated": undone}


# --- the simulated work of each task ---


def reserve(event: Mapping[str, Any], generation: int) -> dict[str, Any]:
    lines = event.get("lines") or []
    return {
        "reservation_id": f"res-{order_id_of(event)}-{generation}",
        "units": sum(int(line.get("qty", 0)) for line in lines),
    }


def charge(event: Mapping[str, Any], generation: int) -> dict[str, Any]:
    return {"payment_id": f"pay-{order_id_of(event)}-{generation}", "amount": int(event.get("amount", 0))}


def ship(event: Mapping[str, Any], generation: int) -> dict[str, Any]:
    return {"tracking_no": f"trk-{order_id_of(event)}-{generation}"}


def confirm(event: Mapping[str, Any], generation: int) -> dict[str, Any]:
    return {"order_status": "CONFIRMED", "confirmation": f"conf-{order_id_of(event)}-{generation}"}


WORK: dict[str, TaskWork] = {
    "ReserveInventory": reserve,
    "ProcessPayment": charge,
    "ArrangeShipping": ship,
    "ConfirmOrder": confirm,
}
#: compensation -> the task it undoes
UNDOES = {"RefundPayment": "ProcessPayment", "CancelReservation": "ReserveInventory"}
